package v1

// TaskMetadataIP is the link-local address at which containers reach the
// agent's task metadata and credentials endpoint: the ECS agent's
// (agent/config.AgentCredentialsAddress); ecs-init's host rules send its
// port 80 to 127.0.0.1:ECS_TASK_METADATA_PORT.
const TaskMetadataIP = "169.254.170.2"

// The environment the ECS agent and ECS give every task container
// (agent/api/container/container.go, agent/api/task/task.go; the ECS
// Developer Guide's "Task metadata endpoint version 4" and "Task IAM role").
const (
	// EnvMetadataURI is the v3 endpoint of the container.
	EnvMetadataURI = "ECS_CONTAINER_METADATA_URI"
	// EnvMetadataURIV4 is its v4 endpoint.
	EnvMetadataURIV4 = "ECS_CONTAINER_METADATA_URI_V4"
	// EnvCredentialsRelativeURI is where the SDKs' container credentials
	// provider finds the task role's credentials, relative to
	// http://TaskMetadataIP; set only for a task with a task role.
	EnvCredentialsRelativeURI = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
	// EnvExecutionEnv names the platform to the SDKs (their user agent);
	// ECS sets it in the task's environment.
	EnvExecutionEnv = "AWS_EXECUTION_ENV"
	// ExecutionEnvEC2 is its value for tasks on EC2 container instances.
	ExecutionEnvEC2 = "AWS_ECS_EC2"
	// EnvRegion and EnvDefaultRegion are the region, set unless the task
	// definition or the image sets them.
	EnvRegion        = "AWS_REGION"
	EnvDefaultRegion = "AWS_DEFAULT_REGION"
)

// CredentialsRelativeURI is the credentials endpoint's path for a
// credentials id.
func CredentialsRelativeURI(id string) string { return "/v2/credentials/" + id }

// MetadataURI is a container's task metadata endpoint of a version ("v3",
// "v4") for its metadata id.
func MetadataURI(version, metadataID string) string {
	return "http://" + TaskMetadataIP + "/" + version + "/" + metadataID
}
