package controllers

import (
	"context"
	"errors"
	"fmt"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// ensureImage reports whether the container's image is ready. The task
// records its use of the image in the Image object (apiv1.PullRequest) and,
// unless a cached copy will do, asks for a pull at or after the task's
// PullStartedAt and waits for the images reconciler's answer to it: the
// images reconciler applies ECS_IMAGE_PULL_BEHAVIOR, credentials and
// retries, and one pull answers every task its outcome holds for
// (api/v1/image_pull.go). The image watch requeues this task when the
// answer is written. A pull that failed with this task's credentials fails
// the container with the pull's error (and the task, if it is essential:
// the reason is returned).
func (t *taskRun) ensureImage(ctx context.Context, c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus) (ready bool, stopReason string, err error) {
	name := apiv1.ImageObjectName(c.Image)
	var img apiv1.Image
	err = t.r.Store.Get(ctx, name, &img)
	tracked := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, "", fmt.Errorf("get image %s: %w", c.Image, err)
	}
	mine := t.pullRequest(c, img.Spec.Request(t.task.Name))
	if tracked && img.BeingRemoved() {
		// Image cleanup decided to remove it before this task was written:
		// wait for the removal, then pull it again. The request is what
		// makes the removal (a delete of the Image) requeue this task.
		return false, "", t.recordRequest(ctx, c.Image, &img, true, mine)
	}
	if apiv1.CachedWillDo(t.r.Opts.PullBehavior, tracked && img.Status.PulledAt != nil) {
		local, present, err := t.imagePresent(ctx, c.Image)
		if err != nil {
			return false, "", err
		}
		if present {
			// Used without a pull: the request records the use only.
			use := mine
			use.At = nil
			if old := img.Spec.Request(t.task.Name); old != nil {
				use.At = old.At
			}
			if err := t.recordRequest(ctx, c.Image, &img, tracked, use); err != nil {
				return false, "", err
			}
			t.markPulled(c, cs, &local)
			return true, "", nil
		}
	}
	answer := img.Status.Answer(t.task.Name, mine.At)
	if answer == nil {
		return false, "", t.requestPull(ctx, c, &img, tracked, mine)
	}
	if answer.Phase == apiv1.ImageFailed {
		// The image's PullFailed event already carries the daemon's
		// error; the task's event points at it rather than repeating it.
		return false, t.failContainerSaying(c, cs, apiv1.CannotPullContainerErrorName+": "+answer.Error,
			fmt.Sprintf("%s: image %s could not be pulled (see PullFailed)", apiv1.CannotPullContainerErrorName, c.Image)), nil
	}
	local, present, err := t.imagePresent(ctx, c.Image)
	if err != nil {
		return false, "", err
	}
	if !present {
		// Gone since the answer (removed behind our back): ask again.
		mine.At = microTime(t.now)
		return false, "", t.requestPull(ctx, c, &img, tracked, mine)
	}
	t.markPulled(c, cs, &local)
	return true, "", nil
}

func (t *taskRun) imagePresent(ctx context.Context, ref string) (dockerstate.Image, bool, error) {
	img, present, err := t.r.Docker.ImagePresent(ctx, ref)
	if err != nil {
		return img, false, fmt.Errorf("look up image %s for task %s: %w", ref, t.task.Name, err)
	}
	return img, present, nil
}

// pullRequest is this task's request for c's image: at the task's
// PullStartedAt, or at its earlier request's time if that was later (a
// re-ask), with the names (never the values) of the credentials it needs.
func (t *taskRun) pullRequest(c *apiv1.ContainerSpec, old *apiv1.PullRequest) apiv1.PullRequest {
	if t.task.Status.PullStartedAt == nil {
		t.task.Status.PullStartedAt = microTime(t.now)
	}
	req := apiv1.PullRequest{Task: t.task.Name, At: t.task.Status.PullStartedAt}
	req.ExecutionRoleArn = t.task.Spec.ExecutionRoleArn
	if c.RepositoryCredentials != nil {
		req.CredentialsParameter = c.RepositoryCredentials.CredentialsParameter
	}
	if old != nil && old.At != nil && req.At.Before(old.At) {
		req.At = old.At
	}
	return req
}

// requestPull asks for a pull of c's image; the answer requeues the task.
func (t *taskRun) requestPull(ctx context.Context, c *apiv1.ContainerSpec, img *apiv1.Image, tracked bool, req apiv1.PullRequest) error {
	if old := img.Spec.Request(t.task.Name); old == nil || old.At == nil {
		t.event(apiv1.EventNormal, "Pulling", "pulling image %s for container %s", c.Image, c.Name)
	}
	return t.recordRequest(ctx, c.Image, img, tracked, req)
}

// recordRequest writes the task's request into the Image object, creating
// the object if it is not there yet. Each task writes only its own entry,
// so tasks never overwrite each other's requests.
func (t *taskRun) recordRequest(ctx context.Context, ref string, img *apiv1.Image, tracked bool, req apiv1.PullRequest) error {
	if tracked && !img.Spec.SetRequest(req) {
		return nil
	}
	if !tracked {
		fresh := apiv1.Image{Spec: apiv1.ImageSpec{Ref: ref, Requests: []apiv1.PullRequest{req}}}
		fresh.Name = apiv1.ImageObjectName(ref)
		err := t.r.Store.Create(ctx, &fresh)
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("request pull of %s: %w", ref, err)
		}
	}
	_, err := store.Mutate(ctx, t.r.Store, apiv1.ImageObjectName(ref), func(i *apiv1.Image) error {
		i.Spec.SetRequest(req)
		return nil
	})
	if err != nil {
		return fmt.Errorf("request pull of %s: %w", ref, err)
	}
	return nil
}

// releaseImages takes the task's requests back from its images: a stopped
// task uses them no more, and image cleanup may remove them.
func (t *taskRun) releaseImages(ctx context.Context) error {
	seen := map[string]bool{}
	for _, c := range t.task.Spec.Containers {
		name := apiv1.ImageObjectName(c.Image)
		if seen[name] {
			continue
		}
		seen[name] = true
		var img apiv1.Image
		if err := t.r.Store.Get(ctx, name, &img); errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return fmt.Errorf("get image %s: %w", c.Image, err)
		}
		if img.Spec.Request(t.task.Name) == nil {
			continue
		}
		_, err := store.Mutate(ctx, t.r.Store, name, func(i *apiv1.Image) error {
			i.Spec.RemoveRequest(t.task.Name)
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("release image %s of task %s: %w", c.Image, t.task.Name, err)
		}
	}
	return nil
}

// markPulled moves a container past PULLED once its image is on the host,
// and resolves the image's digest for it.
func (t *taskRun) markPulled(c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus, img *dockerstate.Image) {
	if cs.KnownStatus == apiv1.StatusNone {
		cs.KnownStatus = apiv1.StatusPulled
	}
	t.resolveDigest(c, cs, img)
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
	return apiv1.SanitizeName(fmt.Sprintf("ecs-%s-%s", t.task.Name, v.Name)), dv
}
