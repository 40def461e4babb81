package controllers

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// ensureImage reports whether the container's image is ready. Every task
// asks the images reconciler, through the Image object, for a pull at or
// after the task's PullStartedAt, and waits for an answer (Status.CheckedAt
// at or after the request) that holds for its credentials (answerHolds):
// the images reconciler applies ECS_IMAGE_PULL_BEHAVIOR, credentials and
// retries, and one answer serves every task that asked before it, so two
// tasks cause one pull. The image watch requeues this task when the answer
// is written. A pull that failed with this task's credentials stops the
// container with the pull's error.
func (t *taskRun) ensureImage(ctx context.Context, c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus) (bool, error) {
	name := apiv1.ImageObjectName(c.Image)
	var img apiv1.Image
	getErr := t.r.Store.Get(ctx, name, &img)
	if getErr != nil && !errors.Is(getErr, store.ErrNotFound) {
		return false, fmt.Errorf("get image %s: %w", c.Image, getErr)
	}
	if getErr == nil && img.BeingRemoved() {
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
	mine := t.pullRequest(c, t.task.Status.PullStartedAt)
	if errors.Is(getErr, store.ErrNotFound) {
		img = apiv1.Image{Spec: mine}
		img.Name = name
		if err := t.r.Store.Create(ctx, &img); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return false, fmt.Errorf("request pull of %s: %w", c.Image, err)
		}
		t.event(apiv1.EventNormal, "Pulling", "pulling image %s for container %s", c.Image, c.Name)
		return false, nil
	}
	if ch := img.Status.CheckedAt; ch != nil && !ch.Before(mine.PullRequestedAt) && answerHolds(&img.Status, &mine, t.r.Opts.PullBehavior) {
		if img.Status.Phase == apiv1.ImageFailed {
			t.failContainer(c, cs, fmt.Sprintf("%s: %s", apiv1.CannotPullContainerErrorName, img.Status.LastPullError))
			return false, nil
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
		mine.PullRequestedAt = microTime(t.now)
	}
	if waiting(&img, &mine, t.r.Opts.PullBehavior) {
		return false, nil
	}
	_, err := store.Mutate(ctx, t.r.Store, name, func(i *apiv1.Image) error {
		if !waiting(i, &mine, t.r.Opts.PullBehavior) {
			i.Spec = mine
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("request pull of %s: %w", c.Image, err)
	}
	return false, nil
}

// waiting reports whether the image's pending request, made at or after
// ours, stands for ours too: its answer is ours where it holds for our
// credentials, and we ask again after it where it does not. Asking only
// when nothing is pending keeps two tasks with other credentials from
// overwriting each other's requests.
func waiting(img *apiv1.Image, mine *apiv1.ImageSpec, behavior apiv1.PullBehavior) bool {
	return pullPending(img, behavior) && !img.Spec.PullRequestedAt.Before(mine.PullRequestedAt)
}

// cachedWillDo reports whether a local copy of the image may be used
// without asking the images reconciler: it would not pull anyway. That is
// so for prefer-cached, for once after this agent pulled the image, and
// when no behaviour is set (tests of the tasks reconciler alone).
func (t *taskRun) cachedWillDo(img *apiv1.Image, tracked bool) bool {
	switch t.r.Opts.PullBehavior {
	case "", apiv1.PullPreferCached:
		return true
	case apiv1.PullOnce:
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
	return apiv1.SanitizeName(fmt.Sprintf("ecs-%s-%s", t.task.Name, v.Name)), dv
}
