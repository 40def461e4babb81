// Package statechange holds one task or container state change as the agent
// tells it to ECS (SubmitTaskStateChange, SubmitContainerStateChange), and
// the limits ECS puts on it. The reporter in controllers builds them and
// internal/controlplane sends them; neither needs the other to know their
// shape. It follows the ECS agent's own agent/api/statechange.go.
package statechange

import (
	"errors"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// Limits ECS puts on the reasons it accepts: the ECS agent truncates to
// these before it submits (agent/api/statechange.go,
// ecsMaxContainerReasonLength and ecsMaxTaskReasonLength).
const (
	// MaxContainerReasonLength is the longest container reason, in bytes.
	MaxContainerReasonLength = 255
	// MaxTaskReasonLength is the longest task reason, in bytes.
	MaxTaskReasonLength = 1024
)

// ErrRefused is returned (wrapped) by a submitter when the control plane
// refused a change for good (ECS's ClientException): retrying cannot help.
var ErrRefused = errors.New("refused by the control plane")

// Container is one container's state as the control plane is told it
// (SubmitContainerStateChange, or an entry of SubmitTaskStateChange's
// containers).
type Container struct {
	Cluster       string
	TaskArn       string
	ContainerName string
	RuntimeID     string
	// ImageDigest is the digest of the image the container runs
	// ("sha256:…"), when a registry served it.
	ImageDigest string
	// Status is RUNNING or STOPPED.
	Status          apiv1.TaskStatusName
	ExitCode        *int32
	Reason          string
	NetworkBindings []apiv1.PortBinding
}

// Task is one task transition (SubmitTaskStateChange).
type Task struct {
	Cluster string
	TaskArn string
	// Status is RUNNING or STOPPED.
	Status             apiv1.TaskStatusName
	Reason             string
	Containers         []Container
	PullStartedAt      *time.Time
	PullStoppedAt      *time.Time
	ExecutionStoppedAt *time.Time
}
