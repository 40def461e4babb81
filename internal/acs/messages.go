package acs

import (
	"encoding/json"
	"fmt"
)

// The types below are the shapes of the ACS model (the ECS agent's
// ecs-agent/acs/model/api/api-2.json): member names are the model's,
// lowerCamel, and absent members are left out of the JSON, as the ECS
// agent's codec does. Members this agent has no use for (ENIs, App Mesh,
// attachments, FireLens, …) are kept as raw JSON so that a task asking for
// them can be refused by name instead of run without them.

// Server → agent messages.

// PayloadMessage carries tasks ECS placed on (or stopped on) this instance,
// each as a full Task. It is acked with an AckRequest only once every task
// of it is persisted.
type PayloadMessage struct {
	MessageID            string `json:"messageId,omitempty"`
	ClusterArn           string `json:"clusterArn,omitempty"`
	ContainerInstanceArn string `json:"containerInstanceArn,omitempty"`
	Tasks                []Task `json:"tasks,omitempty"`
	SeqNum               *int64 `json:"seqNum,omitempty"`
	GeneratedAt          *int64 `json:"generatedAt,omitempty"`
	Timeline             *int64 `json:"timeline,omitempty"`
}

// IAMRoleCredentialsMessage carries new or renewed credentials of one task's
// role (RoleTypeTaskApplication or RoleTypeTaskExecution).
type IAMRoleCredentialsMessage struct {
	MessageID       string              `json:"messageId,omitempty"`
	TaskArn         string              `json:"taskArn,omitempty"`
	TaskClusterArn  string              `json:"taskClusterArn,omitempty"`
	RoleType        string              `json:"roleType,omitempty"`
	RoleCredentials *IAMRoleCredentials `json:"roleCredentials,omitempty"`
}

// Role types of IAMRoleCredentialsMessage.
const (
	RoleTypeTaskApplication = "TaskApplication"
	RoleTypeTaskExecution   = "TaskExecution"
)

// HeartbeatMessage tells the agent the session is alive; it is acked with
// HeartbeatAckRequest (protocol version 2: ACS drops sessions that do not).
type HeartbeatMessage struct {
	MessageID string `json:"messageId,omitempty"`
	Healthy   *bool  `json:"healthy,omitempty"`
}

// TaskManifestMessage lists every task ECS believes this instance holds. A
// manifest newer than the high-water mark is acked, and the tasks the agent
// runs that it does not list RUNNING become stop candidates.
type TaskManifestMessage struct {
	MessageID            string           `json:"messageId,omitempty"`
	ClusterArn           string           `json:"clusterArn,omitempty"`
	ContainerInstanceArn string           `json:"containerInstanceArn,omitempty"`
	Tasks                []TaskIdentifier `json:"tasks,omitempty"`
	Timeline             *int64           `json:"timeline,omitempty"`
	GeneratedAt          *int64           `json:"generatedAt,omitempty"`
}

// TaskStopVerificationAck is ECS's answer to a TaskStopVerificationMessage:
// the candidates that are to stop. It is honoured only for the last
// manifest accepted (same messageId).
type TaskStopVerificationAck struct {
	MessageID   string           `json:"messageId,omitempty"`
	StopTasks   []TaskIdentifier `json:"stopTasks,omitempty"`
	GeneratedAt *int64           `json:"generatedAt,omitempty"`
}

// CloseMessage is sent by ACS before it closes a session; ignored.
type CloseMessage struct {
	Message string `json:"message,omitempty"`
}

// ErrorMessage is an error ACS reports on the session; ignored.
type ErrorMessage struct {
	Message string `json:"message,omitempty"`
}

// Agent → server messages.

// AckRequest acknowledges a payload or a manifest; Cluster and
// ContainerInstance are copied from the message's ARNs.
type AckRequest struct {
	Cluster           string `json:"cluster,omitempty"`
	ContainerInstance string `json:"containerInstance,omitempty"`
	MessageID         string `json:"messageId,omitempty"`
}

// HeartbeatAckRequest acknowledges a heartbeat.
type HeartbeatAckRequest struct {
	MessageID string `json:"messageId,omitempty"`
}

// IAMRoleCredentialsAckRequest acknowledges credentials, from a credentials
// message or from a payload's task (the payload's messageId then).
type IAMRoleCredentialsAckRequest struct {
	MessageID     string `json:"messageId,omitempty"`
	CredentialsID string `json:"credentialsId,omitempty"`
	Expiration    string `json:"expiration,omitempty"`
}

// TaskStopVerificationMessage asks ECS to confirm stop candidates of the
// manifest whose messageId it carries.
type TaskStopVerificationMessage struct {
	MessageID      string           `json:"messageId,omitempty"`
	StopCandidates []TaskIdentifier `json:"stopCandidates,omitempty"`
}

// NackRequest refuses a message (the ECS agent sends it for updates it does
// not perform).
type NackRequest struct {
	Cluster           string `json:"cluster,omitempty"`
	ContainerInstance string `json:"containerInstance,omitempty"`
	MessageID         string `json:"messageId,omitempty"`
	Reason            string `json:"reason,omitempty"`
}

// Shared shapes.

// TaskIdentifier names one task and its desired status.
type TaskIdentifier struct {
	TaskArn        string `json:"taskArn,omitempty"`
	TaskClusterArn string `json:"taskClusterArn,omitempty"`
	DesiredStatus  string `json:"desiredStatus,omitempty"`
}

// IAMRoleCredentials are one role's temporary credentials. They are secret:
// String and Format never show the key or the token, so a log line or a
// %v cannot leak them.
type IAMRoleCredentials struct {
	CredentialsID   string `json:"credentialsId,omitempty"`
	RoleArn         string `json:"roleArn,omitempty"`
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	SessionToken    string `json:"sessionToken,omitempty"`
	// Expiration is opaque to the agent (ECS sends RFC 3339); it is echoed
	// in the ack.
	Expiration      string `json:"expiration,omitempty"`
	CredentialScope string `json:"credentialScope,omitempty"`
}

// String names the credentials without their secrets.
func (c IAMRoleCredentials) String() string {
	return fmt.Sprintf("{credentialsId:%s roleArn:%s expiration:%s}", c.CredentialsID, c.RoleArn, c.Expiration)
}

// Format makes every verb (%v, %+v, %#v) print String's redacted form.
func (c IAMRoleCredentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// Task is a task as ACS pushes it: the definition (with ECS's Docker
// settings in each container's DockerConfig), overrides, desired status
// and role credentials.
type Task struct {
	Arn                      string              `json:"arn,omitempty"`
	TaskClusterArn           string              `json:"taskClusterArn,omitempty"`
	Family                   string              `json:"family,omitempty"`
	Version                  string              `json:"version,omitempty"`
	DesiredStatus            string              `json:"desiredStatus,omitempty"`
	Containers               []Container         `json:"containers,omitempty"`
	Volumes                  []Volume            `json:"volumes,omitempty"`
	Overrides                *string             `json:"overrides,omitempty"`
	Zone                     string              `json:"zone,omitempty"`
	TaskDefinitionAccountID  string              `json:"taskDefinitionAccountId,omitempty"`
	CPU                      *float64            `json:"cpu,omitempty"`
	Memory                   *int64              `json:"memory,omitempty"`
	NetworkMode              string              `json:"networkMode,omitempty"`
	PidMode                  string              `json:"pidMode,omitempty"`
	IpcMode                  string              `json:"ipcMode,omitempty"`
	LaunchType               string              `json:"launchType,omitempty"`
	ServiceName              string              `json:"serviceName,omitempty"`
	Group                    string              `json:"group,omitempty"`
	RoleCredentials          *IAMRoleCredentials `json:"roleCredentials,omitempty"`
	ExecutionRoleCredentials *IAMRoleCredentials `json:"executionRoleCredentials,omitempty"`
	EnableFaultInjection     *bool               `json:"enableFaultInjection,omitempty"`
	AgentConfiguration       *string             `json:"agentConfiguration,omitempty"`

	ElasticNetworkInterfaces      json.RawMessage `json:"elasticNetworkInterfaces,omitempty"`
	ProxyConfiguration            json.RawMessage `json:"proxyConfiguration,omitempty"`
	Associations                  json.RawMessage `json:"associations,omitempty"`
	Attachments                   json.RawMessage `json:"attachments,omitempty"`
	TrustedExecutionConfiguration json.RawMessage `json:"trustedExecutionConfiguration,omitempty"`
}

// Container is one container of an ACS Task. Settings the task definition
// has but this shape lacks (log configuration, ulimits, labels, user, health
// check, memory reservation, …) ride in DockerConfig as Docker Engine JSON.
type Container struct {
	Name                   string                  `json:"name,omitempty"`
	Image                  string                  `json:"image,omitempty"`
	ContainerArn           string                  `json:"containerArn,omitempty"`
	Command                []string                `json:"command,omitempty"`
	EntryPoint             []string                `json:"entryPoint,omitempty"`
	CPU                    *int64                  `json:"cpu,omitempty"`
	Memory                 *int64                  `json:"memory,omitempty"`
	Essential              bool                    `json:"essential"`
	Privileged             *bool                   `json:"privileged,omitempty"`
	Environment            map[string]string       `json:"environment,omitempty"`
	PortMappings           []PortMapping           `json:"portMappings,omitempty"`
	MountPoints            []MountPoint            `json:"mountPoints,omitempty"`
	VolumesFrom            []VolumeFrom            `json:"volumesFrom,omitempty"`
	DependsOn              []ContainerDependency   `json:"dependsOn,omitempty"`
	StartTimeout           *int32                  `json:"startTimeout,omitempty"`
	StopTimeout            *int32                  `json:"stopTimeout,omitempty"`
	HealthCheckType        string                  `json:"healthCheckType,omitempty"`
	DockerConfig           *DockerConfig           `json:"dockerConfig,omitempty"`
	Overrides              *string                 `json:"overrides,omitempty"`
	RegistryAuthentication *RegistryAuthentication `json:"registryAuthentication,omitempty"`
	LogsAuthStrategy       string                  `json:"logsAuthStrategy,omitempty"`
	Secrets                []Secret                `json:"secrets,omitempty"`
	RestartPolicy          *RestartPolicy          `json:"restartPolicy,omitempty"`
	Links                  []string                `json:"links,omitempty"`
	CredentialSpecs        []string                `json:"credentialSpecs,omitempty"`
	NetworkInterfaceNames  []string                `json:"networkInterfaceNames,omitempty"`

	LinuxParameters       json.RawMessage `json:"linuxParameters,omitempty"`
	EnvironmentFiles      json.RawMessage `json:"environmentFiles,omitempty"`
	FirelensConfiguration json.RawMessage `json:"firelensConfiguration,omitempty"`
	ManagedAgents         json.RawMessage `json:"managedAgents,omitempty"`
	ResourceRequirements  json.RawMessage `json:"resourceRequirements,omitempty"`
}

// DockerConfig holds Docker Engine create-container JSON: Config is a
// container.Config, HostConfig a container.HostConfig, each a JSON string.
type DockerConfig struct {
	Version    *string `json:"version,omitempty"`
	Config     *string `json:"config,omitempty"`
	HostConfig *string `json:"hostConfig,omitempty"`
}

// PortMapping is a container's port mapping.
type PortMapping struct {
	ContainerPort      *int32 `json:"containerPort,omitempty"`
	HostPort           *int32 `json:"hostPort,omitempty"`
	ContainerPortRange string `json:"containerPortRange,omitempty"`
	Protocol           string `json:"protocol,omitempty"`
}

// MountPoint mounts a task volume into a container.
type MountPoint struct {
	SourceVolume  string `json:"sourceVolume,omitempty"`
	ContainerPath string `json:"containerPath,omitempty"`
	ReadOnly      bool   `json:"readOnly,omitempty"`
}

// VolumeFrom mounts another container's volumes.
type VolumeFrom struct {
	SourceContainer string `json:"sourceContainer,omitempty"`
	ReadOnly        bool   `json:"readOnly,omitempty"`
}

// ContainerDependency is one dependsOn entry.
type ContainerDependency struct {
	ContainerName string `json:"containerName,omitempty"`
	Condition     string `json:"condition,omitempty"`
}

// RestartPolicy is a container's restart policy.
type RestartPolicy struct {
	Enabled              bool    `json:"enabled"`
	IgnoredExitCodes     []int32 `json:"ignoredExitCodes,omitempty"`
	RestartAttemptPeriod *int32  `json:"restartAttemptPeriod,omitempty"`
}

// RegistryAuthentication says how to authenticate a pull: type ecr or asm.
type RegistryAuthentication struct {
	Type        string          `json:"type,omitempty"`
	ASMAuthData *ASMAuthData    `json:"asmAuthData,omitempty"`
	ECRAuthData json.RawMessage `json:"ecrAuthData,omitempty"`
}

// ASMAuthData names the Secrets Manager secret with registry credentials.
type ASMAuthData struct {
	CredentialsParameter string `json:"credentialsParameter,omitempty"`
	Region               string `json:"region,omitempty"`
}

// Secret is a secret reference (never its value).
type Secret struct {
	Name          string `json:"name,omitempty"`
	ValueFrom     string `json:"valueFrom,omitempty"`
	ContainerPath string `json:"containerPath,omitempty"`
	Type          string `json:"type,omitempty"`
	Region        string `json:"region,omitempty"`
	Provider      string `json:"provider,omitempty"`
	Target        string `json:"target,omitempty"`
}

// Volume is a task volume of one of the model's types.
type Volume struct {
	Name                      string                     `json:"name,omitempty"`
	Type                      string                     `json:"type,omitempty"`
	Host                      *HostVolumeProperties      `json:"host,omitempty"`
	DockerVolumeConfiguration *DockerVolumeConfiguration `json:"dockerVolumeConfiguration,omitempty"`

	EFSVolumeConfiguration                  json.RawMessage `json:"efsVolumeConfiguration,omitempty"`
	FSxWindowsFileServerVolumeConfiguration json.RawMessage `json:"fsxWindowsFileServerVolumeConfiguration,omitempty"`
	EBSVolumeConfiguration                  json.RawMessage `json:"ebsVolumeConfiguration,omitempty"`
	LogDriverVolumeConfiguration            json.RawMessage `json:"logDriverVolumeConfiguration,omitempty"`
}

// Volume types.
const (
	VolumeTypeHost   = "host"
	VolumeTypeDocker = "docker"
)

// HostVolumeProperties is a host volume's path ("" for a Docker-managed one).
type HostVolumeProperties struct {
	SourcePath string `json:"sourcePath,omitempty"`
}

// DockerVolumeConfiguration is a Docker volume's settings.
type DockerVolumeConfiguration struct {
	Scope         string            `json:"scope,omitempty"`
	Autoprovision bool              `json:"autoprovision,omitempty"`
	Driver        string            `json:"driver,omitempty"`
	DriverOpts    map[string]string `json:"driverOpts,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}
