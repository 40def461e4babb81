package controllers

import (
	"context"
	"errors"
	"fmt"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// ensureImage reports whether the container's image is on the host. A
// missing image is handed to the images reconciler through its Image object;
// the image watch requeues this task when the pull ends. A pull that failed
// after this task asked for it stops the container with the pull's error.
func (t *taskRun) ensureImage(ctx context.Context, c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus) (bool, error) {
	_, present, err := t.r.Docker.ImagePresent(ctx, c.Image)
	if err != nil {
		return false, fmt.Errorf("look up image %s for task %s: %w", c.Image, t.task.Name, err)
	}
	name := ImageObjectName(c.Image)
	var img apiv1.Image
	getErr := t.r.Store.Get(ctx, name, &img)
	if getErr != nil && !errors.Is(getErr, store.ErrNotFound) {
		return false, fmt.Errorf("get image %s: %w", c.Image, getErr)
	}
	if getErr == nil && ImageBeingRemoved(&img) {
		// Image cleanup decided to remove it before this task was written:
		// wait for the removal (the image watch requeues this task), then
		// pull it again.
		return false, nil
	}
	if present {
		t.markPulled(cs)
		if errors.Is(getErr, store.ErrNotFound) {
			// Track the image even when nothing had to be pulled, so the
			// images reconciler knows its users.
			img = apiv1.Image{Spec: apiv1.ImageSpec{Ref: c.Image}}
			img.Name = name
			if err := t.r.Store.Create(ctx, &img); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
				return false, fmt.Errorf("track image %s: %w", c.Image, err)
			}
		}
		return true, nil
	}
	if t.task.Status.PullStartedAt == nil {
		t.task.Status.PullStartedAt = microTime(t.now)
	}
	asked := t.task.Status.PullStartedAt
	switch {
	case errors.Is(getErr, store.ErrNotFound):
		img = apiv1.Image{Spec: apiv1.ImageSpec{Ref: c.Image, PullRequestedAt: asked}}
		img.Name = name
		if err := t.r.Store.Create(ctx, &img); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return false, fmt.Errorf("request pull of %s: %w", c.Image, err)
		}
		t.event(apiv1.EventNormal, "Pulling", "pulling image %s for container %s", c.Image, c.Name)
	case img.Status.Phase == apiv1.ImageFailed && img.Status.LastPullAttempt != nil && !img.Status.LastPullAttempt.Before(asked):
		t.failContainer(c, cs, fmt.Sprintf("CannotPullContainerError: %s", img.Status.LastPullError))
	case img.Spec.PullRequestedAt == nil || img.Spec.PullRequestedAt.Before(asked):
		// An older failure or a removed image: ask for a fresh pull.
		_, err := store.Mutate(ctx, t.r.Store, name, func(i *apiv1.Image) error {
			i.Spec.PullRequestedAt = asked
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("request pull of %s: %w", c.Image, err)
		}
	}
	return false, nil
}

// markPulled moves a container past PULLED once its image is on the host.
func (t *taskRun) markPulled(cs *apiv1.ContainerStatus) {
	if cs.KnownStatus == apiv1.StatusNone {
		cs.KnownStatus = apiv1.StatusPulled
	}
	if t.task.Status.PullStartedAt != nil && t.task.Status.PullStoppedAt == nil && t.allImagesPulled() {
		t.task.Status.PullStoppedAt = microTime(t.now)
	}
}

func (t *taskRun) allImagesPulled() bool {
	for _, cs := range t.task.Status.Containers {
		if cs.KnownStatus == apiv1.StatusNone {
			return false
		}
	}
	return true
}

// ensureVolumes creates the Docker volumes the task's mount points use.
func (t *taskRun) ensureVolumes(ctx context.Context) error {
	for _, v := range t.task.Spec.Volumes {
		name, dv := t.dockerVolume(&v)
		if name == "" {
			continue
		}
		var driver string
		var opts, labels map[string]string
		if dv != nil {
			if dv.Scope == "shared" && !dv.Autoprovision {
				continue // must exist already; create fails clearly if not
			}
			driver, opts, labels = dv.Driver, dv.DriverOpts, dv.Labels
		}
		if err := t.r.Docker.EnsureVolume(ctx, name, driver, opts, labels); err != nil {
			return fmt.Errorf("create volume %s of task %s: %w", name, t.task.Name, err)
		}
	}
	return nil
}

// dockerVolume names the Docker volume behind a task volume, or "" for a
// host path. Task-scoped volumes are named after the task so a restarted
// agent finds the same one.
func (t *taskRun) dockerVolume(v *apiv1.Volume) (string, *apiv1.DockerVolumeConfiguration) {
	if v.Host != nil && v.Host.SourcePath != "" {
		return "", nil
	}
	dv := v.DockerVolumeConfiguration
	if dv != nil && dv.Scope == "shared" {
		return v.Name, dv
	}
	return sanitizeName(fmt.Sprintf("ecs-%s-%s", t.task.Name, v.Name)), dv
}
