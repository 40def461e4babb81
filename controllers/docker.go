package controllers

import (
	"context"
	"io"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// The Docker daemon as each reconciler uses it: every consumer names the
// few calls it makes (containerd style), so a test fake or a wrapper needs
// only those, and what a reconciler can do to Docker is read off its field
// type. *dockerstate.Docker and the dockerfake.Fake satisfy all of them.

// ImageLookup answers whether an image reference resolves on the host.
// dockerstate answers from its image cache, so a lookup costs no daemon
// round trip.
type ImageLookup interface {
	// ImagePresent reports whether ref resolves to a local image the way
	// Docker resolves it (short names, digests, image ids), and which.
	ImagePresent(ctx context.Context, ref string) (dockerstate.Image, bool, error)
}

// TaskDocker is what the tasks reconciler needs of Docker: the container
// cache it compares a task with, the calls that move containers through
// their lifecycle, the task's volumes, and image lookups.
type TaskDocker interface {
	ImageLookup
	// Synced reports whether the cache has been filled by its first List.
	Synced() bool
	// Container returns the cached container with the id.
	Container(id string) (dockerstate.Container, bool)
	// TaskContainers returns the cached containers labelled with the ARN.
	TaskContainers(taskARN string) []dockerstate.Container

	CreateContainer(ctx context.Context, cfg dockerstate.CreateConfig) (dockerstate.Container, error)
	StartContainer(ctx context.Context, id string) error
	SignalContainer(ctx context.Context, id, signal string) error
	RemoveContainer(ctx context.Context, id string, removeVolumes bool) error
	InspectContainer(ctx context.Context, id string) (dockerstate.Container, error)
	// ImageEnv is the environment the image's config sets.
	ImageEnv(ctx context.Context, ref string) ([]string, error)

	EnsureVolume(ctx context.Context, name, driver string, driverOpts, labels map[string]string) error
	RemoveVolume(ctx context.Context, name string) error

	// ImportImage makes the pause image from its root filesystem.
	ImportImage(ctx context.Context, ref string, rootfs io.Reader, entrypoint []string) error
}

// ImageDocker is what the images reconciler needs of Docker: pull, and look
// up what a pull left on the host.
type ImageDocker interface {
	ImageLookup
	PullImage(ctx context.Context, ref string, auth dockerstate.PullAuth, progress func(done, total int64)) error
}

// ImageCleanupDocker is what image cleanup needs of Docker: remove an
// image, see whether one is still there, and how full the data disk is.
type ImageCleanupDocker interface {
	ImageLookup
	DeleteImage(ctx context.Context, ref string) (dockerstate.ImageRemoval, error)
	DataDisk(ctx context.Context) (dockerstate.DiskUsage, error)
}

// DockerChanges is the Docker cache's change feed, which the Set turns into
// task requeues.
type DockerChanges interface {
	Subscribe(fn func(dockerstate.Change)) (cancel func())
}

var (
	_ TaskDocker         = (*dockerstate.Docker)(nil)
	_ ImageDocker        = (*dockerstate.Docker)(nil)
	_ ImageCleanupDocker = (*dockerstate.Docker)(nil)
	_ DockerChanges      = (*dockerstate.Docker)(nil)
)
