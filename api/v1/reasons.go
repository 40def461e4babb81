package v1

// Reasons are ECS facts: people, the ECS console and scripts read and match
// a task's stoppedReason and a container's reason, so the agent words them
// as ECS and the ECS agent do.

// ReasonEssentialContainerExited is a task's stopped reason when one of its
// essential containers exited: ECS's wording for the stop code
// EssentialContainerExited (ECS Developer Guide, "Amazon ECS stopped task
// error messages"; TaskStopCode in the ECS API reference).
const ReasonEssentialContainerExited = "Essential container in task exited"

// ReasonOutOfMemory is a container's reason when the kernel killed it for
// its memory use: the ECS agent's OutOfMemoryError, its name and message
// (agent/dockerclient/dockerapi/errors.go).
const ReasonOutOfMemory = "OutOfMemoryError: Container killed due to memory usage"

// Names of the errors that stop a container, as the ECS agent names them
// (ErrorName in agent/dockerclient/dockerapi/errors.go). A container's
// reason is the name, ": " and what went wrong, the way the ECS agent
// reports a named error.
const (
	// CannotPullContainerErrorName: the container's image could not be
	// pulled (and, under ECS_IMAGE_PULL_BEHAVIOR=default, was not cached).
	CannotPullContainerErrorName = "CannotPullContainerError"
	// CannotCreateContainerErrorName: Docker refused to create the
	// container, or this agent refuses the container's settings.
	CannotCreateContainerErrorName = "CannotCreateContainerError"
	// CannotStartContainerErrorName: Docker refused to start (or restart)
	// the container.
	CannotStartContainerErrorName = "CannotStartContainerError"
	// DockerStateErrorName: Docker reported an error in the container's
	// state, or the container went away without the agent.
	DockerStateErrorName = "DockerStateError"
)

// ResourceInitializationErrorName is the stop code of a task whose
// resources could not be set up before its containers: its secrets, its
// registry credentials or its roles' credentials (ECS's stop code
// ResourceInitializationError; ECS Developer Guide, "Amazon ECS stopped
// task error messages"). The reason names the secret or role and the
// error, never a secret's value.
const ResourceInitializationErrorName = "ResourceInitializationError"
