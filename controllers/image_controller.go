package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// ImageReconciler owns Image objects: it pulls an image a task asked for
// and keeps track of which tasks use it. Registry auth, pull behaviours and
// cleanup build on it later.
type ImageReconciler struct {
	Store  store.Store
	Docker dockerstate.Client
	Events Recorder
	Now    Clock
	// ProgressEvery bounds how often pull progress is written to the store.
	ProgressEvery time.Duration

	pulls sync.Map // object name → struct{}: pulls in flight in this process
}

var _ reconcile.Reconciler = (*ImageReconciler)(nil)

// Reconcile implements reconcile.Reconciler.
func (r *ImageReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var img apiv1.Image
	if err := r.Store.Get(ctx, req.Name, &img); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("get image %s: %w", req.Name, err)
	}
	before := img.Status.DeepCopy()
	if err := r.trackUsers(ctx, &img); err != nil {
		return reconcile.Result{}, err
	}
	local, present, err := r.Docker.ImagePresent(ctx, img.Spec.Ref)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("look up image %s: %w", img.Spec.Ref, err)
	}
	pull := r.pullWanted(&img, present)
	if present && !pull {
		img.Status.Phase = apiv1.ImagePresent
		img.Status.ImageID = local.ID
		img.Status.Size = local.Size
	}
	if !equality.Semantic.DeepEqual(before, &img.Status) {
		if err := r.Store.Update(ctx, &img); err != nil {
			return reconcile.Result{}, fmt.Errorf("write status of image %s: %w", img.Spec.Ref, err)
		}
	}
	if pull {
		return reconcile.Result{}, r.pull(ctx, &img)
	}
	return reconcile.Result{}, nil
}

// pullWanted reports whether a task asked for a pull that has not been tried
// since.
func (r *ImageReconciler) pullWanted(img *apiv1.Image, present bool) bool {
	asked := img.Spec.PullRequestedAt
	if asked == nil {
		return false
	}
	if last := img.Status.LastPullAttempt; last != nil && !last.Before(asked) {
		return false
	}
	// An image that arrived by other means (docker load, another pull)
	// answers the request as well as a pull would.
	return !present
}

// pull runs one pull attempt and records its outcome. The pull is tracked
// per process so that a requeue during a long pull does not start another.
func (r *ImageReconciler) pull(ctx context.Context, img *apiv1.Image) error {
	if _, busy := r.pulls.LoadOrStore(img.Name, struct{}{}); busy {
		return nil
	}
	defer r.pulls.Delete(img.Name)
	log := log.FromContext(ctx).WithValues("image", img.Spec.Ref)
	start := r.Now()
	if _, err := store.Mutate(ctx, r.Store, img.Name, func(i *apiv1.Image) error {
		i.Status.Phase = apiv1.ImagePulling
		return nil
	}); err != nil {
		return fmt.Errorf("mark image %s pulling: %w", img.Spec.Ref, err)
	}
	log.Info("pulling image")
	pullErr := r.Docker.PullImage(ctx, img.Spec.Ref, dockerstate.PullAuth{}, nil)
	now := r.Now()
	var local dockerstate.Image
	if pullErr == nil {
		var present bool
		var err error
		local, present, err = r.Docker.ImagePresent(ctx, img.Spec.Ref)
		if err == nil && !present {
			pullErr = fmt.Errorf("pull of %s succeeded but the image is not on the host", img.Spec.Ref)
		}
	}
	_, err := store.Mutate(ctx, r.Store, img.Name, func(i *apiv1.Image) error {
		i.Status.LastPullAttempt = microTime(now)
		if pullErr != nil {
			i.Status.Phase = apiv1.ImageFailed
			i.Status.LastPullError = pullErr.Error()
			return nil
		}
		i.Status.Phase = apiv1.ImagePresent
		i.Status.LastPullError = ""
		i.Status.PulledAt = microTime(now)
		i.Status.ImageID = local.ID
		i.Status.Size = local.Size
		return nil
	})
	if err != nil {
		return fmt.Errorf("record pull of %s: %w", img.Spec.Ref, err)
	}
	if pullErr != nil {
		imagePulls.WithLabelValues("failure").Inc()
		log.Info("image pull failed", "error", pullErr.Error())
		r.event(img, apiv1.EventWarning, "PullFailed", "pull of %s failed after %s: %v", img.Spec.Ref, now.Sub(start).Round(time.Millisecond), pullErr)
		return nil
	}
	imagePulls.WithLabelValues("success").Inc()
	r.event(img, apiv1.EventNormal, "Pulled", "pulled %s in %s", img.Spec.Ref, now.Sub(start).Round(time.Millisecond))
	return nil
}

// trackUsers records which tasks use the image, and when it was last used.
func (r *ImageReconciler) trackUsers(ctx context.Context, img *apiv1.Image) error {
	var tasks apiv1.TaskList
	if err := r.Store.List(ctx, &tasks); err != nil {
		return fmt.Errorf("list tasks using image %s: %w", img.Spec.Ref, err)
	}
	var users []string
	for _, t := range tasks.Items {
		if t.Status.KnownStatus == apiv1.StatusStopped {
			continue
		}
		for _, c := range t.Spec.Containers {
			if c.Image == img.Spec.Ref {
				users = append(users, t.Name)
				break
			}
		}
	}
	slices.Sort(users)
	if !slices.Equal(users, img.Status.Users) {
		// A user coming or going is a use: the image was needed until now.
		img.Status.LastUsedAt = microTime(r.Now())
		img.Status.Users = users
	}
	return nil
}

func (r *ImageReconciler) event(img *apiv1.Image, eventType, reason, format string, args ...any) {
	if r.Events != nil {
		r.Events.Eventf(img, eventType, reason, format, args...)
	}
}
