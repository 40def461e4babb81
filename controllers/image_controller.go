package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/registryauth"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// ECS_IMAGE_PULL_BEHAVIOR values (the ECS agent's ImagePullBehaviorType).
const (
	PullDefault      = "default"
	PullAlways       = "always"
	PullOnce         = "once"
	PullPreferCached = "prefer-cached"
)

// RegistryCredentials finds the credentials for a pull;
// *registryauth.Resolver is one.
type RegistryCredentials interface {
	Auth(ctx context.Context, req registryauth.Request) (registryauth.Auth, error)
}

// ImageOptions are the agent settings the images reconciler applies.
type ImageOptions struct {
	// PullBehavior is ECS_IMAGE_PULL_BEHAVIOR; "" is PullDefault.
	PullBehavior string
	// PullAttempts bounds the attempts at one pull request (default 3).
	PullAttempts int32
	// RetryBackoff is the wait after the first failed attempt, doubled
	// after each further one (default 2s).
	RetryBackoff time.Duration
}

// ImageReconciler owns Image objects: it answers the pull requests tasks
// write into them, pulling as ECS_IMAGE_PULL_BEHAVIOR says, with the
// registry's credentials, retrying with backoff, and keeps track of which
// tasks use each image. Cleanup is ImageCleanupReconciler's.
type ImageReconciler struct {
	Store  store.Store
	Docker ImageDocker
	Events Recorder
	Now    Clock
	// Auth finds registry credentials; nil pulls anonymously.
	Auth RegistryCredentials
	Opts ImageOptions
	// ProgressEvery bounds how often pull progress is written to the store
	// (default 500ms).
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
	if _, busy := r.pulls.Load(img.Name); busy {
		// The pull in flight writes its outcome, which requeues us.
		return reconcile.Result{}, nil
	}
	before := img.Status.DeepCopy()
	if err := r.trackUsers(ctx, &img); err != nil {
		return reconcile.Result{}, err
	}
	local, present, err := r.Docker.ImagePresent(ctx, img.Spec.Ref)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("look up image %s: %w", img.Spec.Ref, err)
	}
	if present {
		img.Status.ImageID = local.ID
		img.Status.Size = local.Size
	}
	img.Status.Progress = nil // no pull of ours is in flight
	var res reconcile.Result
	pull := false
	switch {
	case !pullPending(&img, r.Opts.PullBehavior):
		if present && img.Status.Phase != apiv1.ImageFailed {
			img.Status.Phase = apiv1.ImagePresent
		}
	case !r.pullNeeded(&img, present):
		r.answer(&img, &img.Spec, apiv1.ImagePresent, "")
	default:
		if wait := r.backoffLeft(&img); wait > 0 {
			res.RequeueAfter = wait
		} else {
			pull = true
		}
	}
	if !equality.Semantic.DeepEqual(before, &img.Status) {
		if err := r.Store.Update(ctx, &img); errors.Is(err, store.ErrConflict) {
			// A task wrote its pull request meanwhile (the usual case
			// right after a request): read it again, without logging an
			// error for it.
			return reconcile.Result{Requeue: true}, nil
		} else if err != nil {
			return reconcile.Result{}, fmt.Errorf("write status of image %s: %w", img.Spec.Ref, err)
		}
	}
	if pull {
		return r.pull(ctx, &img, present)
	}
	return res, nil
}

// pullPending reports whether the image's pull request waits for an
// answer: none was given since it was asked, or the one given does not
// hold for its credentials.
func pullPending(img *apiv1.Image, behavior string) bool {
	asked := img.Spec.PullRequestedAt
	if asked == nil {
		return false
	}
	checked := img.Status.CheckedAt
	return checked == nil || checked.Before(asked) || !answerHolds(&img.Status, &img.Spec, behavior)
}

// answerHolds reports whether the answer in the status holds for a request
// with req's credentials. An image on the host serves every task, except
// under "always", where each task's own credentials must pull it; a failure
// answers only the credentials that failed. While a pull is under way
// (Pulling, or Pending a retry) no answer stands.
func answerHolds(st *apiv1.ImageStatus, req *apiv1.ImageSpec, behavior string) bool {
	same := st.AnsweredCredentialsParameter == req.CredentialsParameter && st.AnsweredExecutionRoleArn == req.ExecutionRoleArn
	switch st.Phase {
	case apiv1.ImagePresent:
		return behavior != PullAlways || same
	case apiv1.ImageFailed:
		return same
	}
	return false
}

// pullNeeded applies ECS_IMAGE_PULL_BEHAVIOR to a pending request.
func (r *ImageReconciler) pullNeeded(img *apiv1.Image, present bool) bool {
	switch r.Opts.PullBehavior {
	case PullPreferCached:
		return !present
	case PullOnce:
		// Once per agent, not per image on the host: an image someone
		// else put there is still pulled the first time.
		return !present || img.Status.PulledAt == nil
	default: // PullDefault, PullAlways
		return true
	}
}

// answer settles the request made with req's credentials: tasks that asked
// before now act on phase, if the answer holds for their credentials.
func (r *ImageReconciler) answer(img *apiv1.Image, req *apiv1.ImageSpec, phase, pullErr string) {
	img.Status.Phase = phase
	img.Status.LastPullError = pullErr
	img.Status.CheckedAt = microTime(r.Now())
	img.Status.AnsweredCredentialsParameter = req.CredentialsParameter
	img.Status.AnsweredExecutionRoleArn = req.ExecutionRoleArn
	img.Status.FailedAttempts = 0
}

func (r *ImageReconciler) attempts() int32 {
	if r.Opts.PullAttempts > 0 {
		return r.Opts.PullAttempts
	}
	return 3
}

// backoffLeft is how long the next attempt must still wait after the
// failures so far.
func (r *ImageReconciler) backoffLeft(img *apiv1.Image) time.Duration {
	n := img.Status.FailedAttempts
	if n == 0 || img.Status.LastPullAttempt == nil {
		return 0
	}
	wait := r.Opts.RetryBackoff
	if wait <= 0 {
		wait = 2 * time.Second
	}
	wait <<= min(n-1, 6)
	return wait - r.Now().Sub(img.Status.LastPullAttempt.Time)
}

// pull runs one pull attempt and records its outcome as the answer to the
// request img carries. The pull is tracked per process so that a requeue
// during a long pull does not start another; tasks asking meanwhile are
// answered by it where the answer holds for their credentials, and ask
// again after it where it does not.
func (r *ImageReconciler) pull(ctx context.Context, img *apiv1.Image, cached bool) (reconcile.Result, error) {
	if _, busy := r.pulls.LoadOrStore(img.Name, struct{}{}); busy {
		return reconcile.Result{}, nil
	}
	defer r.pulls.Delete(img.Name)
	log := log.FromContext(ctx).WithValues("image", img.Spec.Ref)
	start := r.Now()
	if _, err := store.Mutate(ctx, r.Store, img.Name, func(i *apiv1.Image) error {
		i.Status.Phase = apiv1.ImagePulling
		i.Status.Progress = &apiv1.PullProgress{StartedAt: metav1.NewMicroTime(start)}
		return nil
	}); err != nil {
		return reconcile.Result{}, fmt.Errorf("mark image %s pulling: %w", img.Spec.Ref, err)
	}
	log.V(1).Info("pulling image", "attempt", img.Status.FailedAttempts+1)
	auth, source, pullErr := r.credentials(ctx, img)
	if pullErr == nil {
		pullErr = r.Docker.PullImage(ctx, img.Spec.Ref, auth, r.progress(ctx, img.Name, start))
		if pullErr != nil && auth.Username != "" {
			pullErr = fmt.Errorf("with credentials from %s: %w", source, pullErr)
		}
	}
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
	took := now.Sub(start).Round(time.Millisecond)
	var res reconcile.Result
	var outcome string
	_, err := store.Mutate(ctx, r.Store, img.Name, func(i *apiv1.Image) error {
		i.Status.LastPullAttempt = microTime(now)
		i.Status.Progress = nil
		outcome, res = r.record(i, &img.Spec, pullErr, cached, local, now)
		return nil
	})
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("record pull of %s: %w", img.Spec.Ref, err)
	}
	switch outcome {
	case "pulled":
		imagePulls.WithLabelValues("success").Inc()
		r.event(img, apiv1.EventNormal, "Pulled", "pulled %s in %s", img.Spec.Ref, took)
	case "cached":
		imagePulls.WithLabelValues("failure").Inc()
		log.Info("image pull failed; using the cached image", "error", pullErr.Error())
		r.event(img, apiv1.EventWarning, "PullFailed", "pull of %s failed after %s, using the cached image (ECS_IMAGE_PULL_BEHAVIOR=default): %v", img.Spec.Ref, took, pullErr)
	case "retry":
		imagePulls.WithLabelValues("failure").Inc()
		log.Info("image pull failed; will retry", "error", pullErr.Error(), "after", res.RequeueAfter)
		r.event(img, apiv1.EventWarning, "PullFailed", "pull of %s failed after %s, retrying in %s: %v", img.Spec.Ref, took, res.RequeueAfter, pullErr)
	default:
		imagePulls.WithLabelValues("failure").Inc()
		log.Info("image pull failed", "error", pullErr.Error())
		r.event(img, apiv1.EventWarning, "PullFailed", "pull of %s failed after %s: %v", img.Spec.Ref, took, pullErr)
	}
	return res, nil
}

// record folds the outcome of a pull made for req into the status and says
// what it was: "pulled", "cached" (failed; the default behaviour falls back
// on the local copy), "retry" or "failed".
func (r *ImageReconciler) record(i *apiv1.Image, req *apiv1.ImageSpec, pullErr error, cached bool, local dockerstate.Image, now time.Time) (string, reconcile.Result) {
	if pullErr == nil {
		r.answer(i, req, apiv1.ImagePresent, "")
		i.Status.PulledAt = microTime(now)
		i.Status.ImageID = local.ID
		i.Status.Size = local.Size
		return "pulled", reconcile.Result{}
	}
	msg := pullErr.Error()
	if cached && r.Opts.PullBehavior != PullAlways {
		// A retry would only delay the task: the cached copy is what the
		// ECS agent falls back on, and so do we, at once.
		r.answer(i, req, apiv1.ImagePresent, msg)
		return "cached", reconcile.Result{}
	}
	i.Status.FailedAttempts++
	if i.Status.FailedAttempts < r.attempts() && retryable(msg) {
		i.Status.Phase = apiv1.ImagePending
		i.Status.LastPullError = msg
		return "retry", reconcile.Result{RequeueAfter: r.backoffLeft(i)}
	}
	n := i.Status.FailedAttempts
	if n > 1 {
		msg = fmt.Sprintf("%s (after %d attempts)", msg, n)
	}
	r.answer(i, req, apiv1.ImageFailed, msg)
	return "failed", reconcile.Result{}
}

// retryable tells a failure that another attempt may fix (network,
// timeouts, a registry's 5xx) from one it cannot: the registry refused the
// credentials or does not have the image.
func retryable(msg string) bool {
	msg = strings.ToLower(msg)
	for _, final := range []string{
		"unauthorized", "authentication required", "no basic auth credentials",
		"denied", "forbidden", "manifest unknown", "not found", "repositorycredentials",
		"invalid reference format",
	} {
		if strings.Contains(msg, final) {
			return false
		}
	}
	return true
}

// credentials finds the pull's registry credentials and names where they
// came from, for messages (never the credentials themselves); a failure
// names the registry and is the pull's error.
func (r *ImageReconciler) credentials(ctx context.Context, img *apiv1.Image) (dockerstate.PullAuth, string, error) {
	if r.Auth == nil {
		return dockerstate.PullAuth{}, "", nil
	}
	a, err := r.Auth.Auth(ctx, registryauth.Request{
		Image:                img.Spec.Ref,
		CredentialsParameter: img.Spec.CredentialsParameter,
		ExecutionRoleArn:     img.Spec.ExecutionRoleArn,
	})
	if err != nil {
		return dockerstate.PullAuth{}, "", err
	}
	source := a.Source
	if source == "" {
		source = "unknown source"
	}
	return dockerstate.PullAuth{Username: a.Username, Password: a.Password, ServerAddress: a.ServerAddress}, source, nil
}

// progress returns the pull's progress callback: it writes bytes done and
// total to the image's status, at most once per ProgressEvery, so that
// `ecs-agent get images` shows a pull moving without a store write per
// daemon message.
func (r *ImageReconciler) progress(ctx context.Context, name string, start time.Time) func(done, total int64) {
	every := r.ProgressEvery
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	var last time.Time
	return func(done, total int64) {
		now := r.Now()
		if now.Sub(last) < every && done != total {
			return
		}
		last = now
		_, err := store.Mutate(ctx, r.Store, name, func(i *apiv1.Image) error {
			i.Status.Progress = &apiv1.PullProgress{StartedAt: metav1.NewMicroTime(start), Done: done, Total: total}
			return nil
		})
		if err != nil {
			log.FromContext(ctx).V(1).Info("record pull progress", "error", err.Error())
		}
	}
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
