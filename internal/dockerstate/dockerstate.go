// Package dockerstate is the only package that talks to the Docker daemon.
//
// It keeps a cache of the actual containers and images: filled by one List at
// start, kept current by the events stream, and checked by a periodic relist
// because events can be missed (the ECS agent relies on events alone and so
// never notices some removed containers, its issue #364). When the daemon goes
// away and comes back it reconnects and resyncs fully. Every call to the
// daemon carries a timeout.
package dockerstate

import (
	"errors"
	"time"
)

// Docker labels the ECS agent puts on task containers; they are how a
// container is mapped back to its task after a restart. The ECS agent defines
// them in agent/dockerclient/dockerapi (labelPrefix "com.amazonaws.ecs.").
const (
	LabelTaskARN        = "com.amazonaws.ecs.task-arn"
	LabelContainerName  = "com.amazonaws.ecs.container-name"
	LabelTaskDefFamily  = "com.amazonaws.ecs.task-definition-family"
	LabelTaskDefVersion = "com.amazonaws.ecs.task-definition-version"
	LabelCluster        = "com.amazonaws.ecs.cluster"
)

// Container states as Docker reports them.
const (
	StateCreated    = "created"
	StateRunning    = "running"
	StateRestarting = "restarting"
	StatePaused     = "paused"
	StateExited     = "exited"
	StateDead       = "dead"
	StateRemoving   = "removing"
)

// ErrNotFound is returned (wrapped) when a container, image or volume does
// not exist.
var ErrNotFound = errors.New("not found in docker")

// ErrNameInUse is returned (wrapped) by CreateContainer when a container of
// that name exists: most likely the same create, made before a crash or a
// timeout that lost its answer, which the caller adopts by the name.
var ErrNameInUse = errors.New("container name already in use")

// Container is what the cache knows of one container, from inspect.
type Container struct {
	ID      string
	Name    string // without the leading slash
	Image   string // as created
	ImageID string
	Labels  map[string]string
	// State is one of the State* constants.
	State      string
	ExitCode   int
	OOMKilled  bool
	Error      string
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	// Health is "", "starting", "healthy" or "unhealthy".
	Health       string
	HealthOutput string
	StopSignal   string
	Ports        []PortBinding
	// NetworkMode is the container's network mode as created ("bridge",
	// "host", "none", …); Networks are the networks it is attached to,
	// sorted by name, with its addresses (none while it is not running).
	NetworkMode string
	Networks    []Network
	// Mounts are its volumes and bind mounts, sorted by destination.
	Mounts []Mount
}

// Network is one network a container is attached to.
type Network struct {
	Name string
	// IPv4 is "" when the network gave the container no address (host,
	// none, or not running).
	IPv4 string
	// IPv6 is the global IPv6 address, "" when there is none.
	IPv6 string
}

// TaskARN is the task the container belongs to, from its labels.
func (c *Container) TaskARN() string { return c.Labels[LabelTaskARN] }

// ContainerName is the task's name for the container, from its labels.
func (c *Container) ContainerName() string { return c.Labels[LabelContainerName] }

// PortBinding is one published port.
type PortBinding struct {
	ContainerPort int32
	HostPort      int32
	Protocol      string
	HostIP        string
}

// Image is what the cache knows of one local image.
type Image struct {
	ID string
	// RepoTags ("busybox:latest") and RepoDigests ("busybox@sha256:…") are
	// the names the image goes by, as the daemon writes them.
	RepoTags    []string
	RepoDigests []string
	Size        int64
	Created     time.Time
}

// PullAuth is registry credentials for one pull; empty means anonymous.
type PullAuth struct {
	Username      string
	Password      string
	Email         string
	ServerAddress string
	IdentityToken string
}

// ChangeKind says what happened to a container.
type ChangeKind string

// Changes a subscriber is told about.
const (
	ContainerChanged ChangeKind = "changed"
	ContainerRemoved ChangeKind = "removed"
	// ImageChanged says an image came, went, or gained or lost a name.
	ImageChanged ChangeKind = "image"
	// Resynced follows a full relist, e.g. after the daemon came back:
	// subscribers should look at everything again.
	Resynced ChangeKind = "resynced"
)

// Change tells a subscriber that the cache changed. Container is the new state
// (the last known one for ContainerRemoved); it is nil for Resynced and
// ImageChanged (which sets ImageRef to the image's id, or the reference
// that no longer names an image).
type Change struct {
	Kind      ChangeKind
	Container *Container
	ImageRef  string
}
