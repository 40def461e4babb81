package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// ensureImage reports whether the container's image is ready. Every task
// asks the images reconciler, through the Image object, for a pull at or
// after the task's PullStartedAt, and waits for the answer (Status.CheckedAt
// at or after the request): the images reconciler applies
// ECS_IMAGE_PULL_BEHAVIOR, credentials and retries, and one answer serves
// every task that asked before it, so two tasks cause one pull. The image
// watch requeues this task when the answer is written. A pull that failed
// for this request stops the container with the pull's error.
func (t *taskRun) ensureImage(ctx context.Context, c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus) (bool, error) {
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
	if t.cachedWillDo(&img, getErr == nil) {
		_, present, err := t.r.Docker.ImagePresent(ctx, c.Image)
		if err != nil {
			return false, fmt.Errorf("look up image %s for task %s: %w", c.Image, t.task.Name, err)
		}
		if present {
			t.markPulled(cs)
			if getErr != nil {
				// Track the image even when nothing had to be pulled, so
				// the images reconciler knows its users.
				img = apiv1.Image{Spec: apiv1.ImageSpec{Ref: c.Image}}
				img.Name = name
				if err := t.r.Store.Create(ctx, &img); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
					return false, fmt.Errorf("track image %s: %w", c.Image, err)
				}
			}
			return true, nil
		}
	}
	if t.task.Status.PullStartedAt == nil {
		t.task.Status.PullStartedAt = microTime(t.now)
	}
	asked := t.task.Status.PullStartedAt
	if errors.Is(getErr, store.ErrNotFound) {
		img = apiv1.Image{Spec: t.pullRequest(c, asked)}
		img.Name = name
		if err := t.r.Store.Create(ctx, &img); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return false, fmt.Errorf("request pull of %s: %w", c.Image, err)
		}
		t.event(apiv1.EventNormal, "Pulling", "pulling image %s for container %s", c.Image, c.Name)
		return false, nil
	}
	requested := img.Spec.PullRequestedAt
	if requested != nil && !requested.Before(asked) && pullAnswered(&img) {
		switch img.Status.Phase {
		case apiv1.ImageFailed:
			if sameCredentials(&img.Spec, c, t.task) {
				t.failContainer(c, cs, fmt.Sprintf("CannotPullContainerError: %s", img.Status.LastPullError))
				return false, nil
			}
			// Another task's credentials failed; ours may not: ask again
			// with them.
			asked = microTime(t.now)
		case apiv1.ImagePresent:
			if t.r.Opts.PullBehavior == PullAlways && !sameCredentials(&img.Spec, c, t.task) {
				// "always" means this task's own credentials must pull it.
				asked = microTime(t.now)
				break
			}
			_, present, err := t.r.Docker.ImagePresent(ctx, c.Image)
			if err != nil {
				return false, fmt.Errorf("look up image %s for task %s: %w", c.Image, t.task.Name, err)
			}
			if present {
				t.markPulled(cs)
				return true, nil
			}
			// Gone since the answer (removed behind our back): ask again.
			asked = microTime(t.now)
		}
	}
	if requested == nil || requested.Before(asked) {
		spec := t.pullRequest(c, asked)
		_, err := store.Mutate(ctx, t.r.Store, name, func(i *apiv1.Image) error {
			if i.Spec.PullRequestedAt != nil && !i.Spec.PullRequestedAt.Before(asked) {
				return nil
			}
			if ch := i.Status.CheckedAt; ch != nil && !ch.Before(asked) && !sameRequester(&i.Spec, &spec) {
				// The answer in the status was written after this task read
				// its clock, for a pull with other credentials: ask after
				// it, or that answer would count as ours.
				spec.PullRequestedAt = microTime(ch.Add(time.Microsecond))
			}
			i.Spec = spec
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("request pull of %s: %w", c.Image, err)
		}
	}
	return false, nil
}

// cachedWillDo reports whether a local copy of the image may be used
// without asking the images reconciler: it would not pull anyway. That is
// so for prefer-cached, for once after this agent pulled the image, and
// when no behaviour is set (tests of the tasks reconciler alone).
func (t *taskRun) cachedWillDo(img *apiv1.Image, tracked bool) bool {
	switch t.r.Opts.PullBehavior {
	case "", PullPreferCached:
		return true
	case PullOnce:
		return tracked && img.Status.PulledAt != nil
	}
	return false
}

// pullRequest is the Image spec asking for a pull of c's image, with the
// names (never the values) of the credentials it needs.
func (t *taskRun) pullRequest(c *apiv1.ContainerSpec, asked *metav1.MicroTime) apiv1.ImageSpec {
	spec := apiv1.ImageSpec{Ref: c.Image, PullRequestedAt: asked, ExecutionRoleArn: t.task.Spec.ExecutionRoleArn}
	if c.RepositoryCredentials != nil {
		spec.CredentialsParameter = c.RepositoryCredentials.CredentialsParameter
	}
	return spec
}

// sameCredentials reports whether the pull request in spec used the
// credentials c's pull would use.
func sameCredentials(spec *apiv1.ImageSpec, c *apiv1.ContainerSpec, task *apiv1.Task) bool {
	param := ""
	if c.RepositoryCredentials != nil {
		param = c.RepositoryCredentials.CredentialsParameter
	}
	return spec.CredentialsParameter == param && spec.ExecutionRoleArn == task.Spec.ExecutionRoleArn
}

// pullAnswered reports whether the images reconciler answered the image's
// latest pull request.
func pullAnswered(img *apiv1.Image) bool {
	return img.Status.CheckedAt != nil && !img.Status.CheckedAt.Before(img.Spec.PullRequestedAt)
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
