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

// RegistryCredentials finds the credentials for a pull;
// *registryauth.Resolver is one.
type RegistryCredentials interface {
	Auth(ctx context.Context, req registryauth.Request) (registryauth.Auth, error)
}

// ImageOptions are the agent settings the images reconciler applies.
type ImageOptions struct {
	// PullBehavior is ECS_IMAGE_PULL_BEHAVIOR; "" is PullDefault.
	PullBehavior apiv1.PullBehavior
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

	slotsMu sync.Mutex
	slots   map[string]int // registry → pulls in flight
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
	r.trackUsers(&img)
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
	var pullWith *apiv1.PullCredentials
	pending := img.Pending()
	switch {
	case len(pending) == 0:
		img.DropStaleAnswers()
		if present && img.Status.Phase != apiv1.ImageFailed {
			img.Status.Phase = apiv1.ImagePresent
		}
	case !apiv1.PullNeeded(r.Opts.PullBehavior, present, img.Status.PulledAt != nil):
		img.Status.Phase = apiv1.ImagePresent
		img.Settle(apiv1.ImagePresent, "", pending[0].PullCredentials, r.Opts.PullBehavior, r.now())
	default:
		// The oldest request's credentials pull first; requests with
		// others wait for their own pull after it.
		with := pending[0].PullCredentials
		if rc := img.Status.RetryCredentials; rc != nil && *rc != with {
			img.Status.FailedAttempts, img.Status.RetryCredentials = 0, nil
		}
		switch wait := r.backoffLeft(&img); {
		case wait > 0:
			res.RequeueAfter = wait
		case !r.takeSlot(registryauth.Registry(img.Spec.Ref)):
			// Its registry has all the pulls it may have; look again soon.
			res.RequeueAfter = registryBusyWait
		default:
			pullWith = &with
		}
	}
	if !equality.Semantic.DeepEqual(before, &img.Status) {
		if err := r.Store.UpdateStatus(ctx, &img); err != nil {
			return reconcile.Result{}, fmt.Errorf("write status of image %s: %w", img.Spec.Ref, err)
		}
	}
	if pullWith != nil {
		defer r.releaseSlot(registryauth.Registry(img.Spec.Ref))
		return r.pull(ctx, &img, *pullWith, present)
	}
	return res, nil
}

// Pull concurrency. A pull holds a worker for as long as the registry
// trickles data (up to ECS_IMAGE_PULL_TIMEOUT), so one slow registry may
// hold at most PullsPerRegistry of the ImageWorkers: the rest stay free for
// every other registry.
const (
	ImageWorkers     = 8
	PullsPerRegistry = 2
	registryBusyWait = time.Second
)

// takeSlot reserves one of the registry's pulls, if it has one free.
func (r *ImageReconciler) takeSlot(registry string) bool {
	r.slotsMu.Lock()
	defer r.slotsMu.Unlock()
	if r.slots == nil {
		r.slots = map[string]int{}
	}
	if r.slots[registry] >= PullsPerRegistry {
		return false
	}
	r.slots[registry]++
	return true
}

func (r *ImageReconciler) releaseSlot(registry string) {
	r.slotsMu.Lock()
	defer r.slotsMu.Unlock()
	if r.slots[registry]--; r.slots[registry] <= 0 {
		delete(r.slots, registry)
	}
}

func (r *ImageReconciler) now() metav1.MicroTime { return metav1.NewMicroTime(r.Now()) }

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

// pull runs one pull attempt with the credentials of the oldest pending
// request and answers, with its outcome, every request that outcome holds
// for, including those written while it ran. The pull is tracked per
// process so that a requeue during a long pull does not start another.
func (r *ImageReconciler) pull(ctx context.Context, img *apiv1.Image, with apiv1.PullCredentials, cached bool) (reconcile.Result, error) {
	if _, busy := r.pulls.LoadOrStore(img.Name, struct{}{}); busy {
		return reconcile.Result{}, nil
	}
	defer r.pulls.Delete(img.Name)
	log := log.FromContext(ctx).WithValues("image", img.Spec.Ref)
	start := r.Now()
	img.Status.Phase = apiv1.ImagePulling
	img.Status.Progress = &apiv1.PullProgress{StartedAt: metav1.NewMicroTime(start)}
	if err := r.Store.UpdateStatus(ctx, img); err != nil {
		return reconcile.Result{}, fmt.Errorf("mark image %s pulling: %w", img.Spec.Ref, err)
	}
	log.V(1).Info("pulling image", "attempt", img.Status.FailedAttempts+1)
	auth, source, pullErr := r.credentials(ctx, img.Spec.Ref, with)
	if pullErr == nil {
		pullErr = r.Docker.PullImage(ctx, img.Spec.Ref, auth, r.progress(ctx, img.DeepCopy(), start))
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
	// Read the requests again: tasks may have asked while the pull ran.
	if err := r.Store.Get(ctx, img.Name, img); err != nil {
		return reconcile.Result{}, fmt.Errorf("record pull of %s: %w", img.Spec.Ref, err)
	}
	r.trackUsers(img)
	img.Status.LastPullAttempt = microTime(now)
	img.Status.Progress = nil
	outcome, res := r.record(img, with, pullErr, cached, local, now)
	if err := r.Store.UpdateStatus(ctx, img); err != nil {
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
	default:
		// Every failed attempt says the same words, so the recorder counts
		// them on one event ("x3 over 6s") instead of repeating the
		// daemon's error; the attempt's length and the wait before the
		// next are in the log.
		imagePulls.WithLabelValues("failure").Inc()
		log.Info("image pull failed", "error", pullErr.Error(), "took", took, "final", outcome == "failed", "retry after", res.RequeueAfter)
		r.event(img, apiv1.EventWarning, "PullFailed", "pull of %s failed: %v", img.Spec.Ref, pullErr)
	}
	return res, nil
}

// record folds the outcome of a pull made with the given credentials into
// the status and says what it was: "pulled", "cached" (failed; the default
// behaviour falls back on the local copy), "retry" or "failed".
func (r *ImageReconciler) record(i *apiv1.Image, with apiv1.PullCredentials, pullErr error, cached bool, local dockerstate.Image, now time.Time) (string, reconcile.Result) {
	at := metav1.NewMicroTime(now)
	if pullErr == nil {
		i.Status.Phase, i.Status.LastPullError = apiv1.ImagePresent, ""
		i.Status.FailedAttempts, i.Status.RetryCredentials = 0, nil
		i.Status.PulledAt = microTime(now)
		i.Status.ImageID = local.ID
		i.Status.Size = local.Size
		i.Settle(apiv1.ImagePresent, "", with, r.Opts.PullBehavior, at)
		return "pulled", reconcile.Result{}
	}
	msg := pullErr.Error()
	if cached && r.Opts.PullBehavior != apiv1.PullAlways {
		// A retry would only delay the task: the cached copy is what the
		// ECS agent falls back on, and so do we, at once.
		i.Status.Phase, i.Status.LastPullError = apiv1.ImagePresent, msg
		i.Status.FailedAttempts, i.Status.RetryCredentials = 0, nil
		i.Settle(apiv1.ImagePresent, msg, with, r.Opts.PullBehavior, at)
		return "cached", reconcile.Result{}
	}
	i.Status.FailedAttempts++
	i.Status.RetryCredentials = &with
	i.Status.LastPullError = msg
	if i.Status.FailedAttempts < r.attempts() && retryable(msg) {
		i.Status.Phase = apiv1.ImagePending
		return "retry", reconcile.Result{RequeueAfter: r.backoffLeft(i)}
	}
	if n := i.Status.FailedAttempts; n > 1 {
		msg = fmt.Sprintf("%s (after %d attempts)", msg, n)
	}
	i.Status.Phase, i.Status.LastPullError = apiv1.ImageFailed, msg
	i.Status.FailedAttempts, i.Status.RetryCredentials = 0, nil
	i.Settle(apiv1.ImageFailed, msg, with, r.Opts.PullBehavior, at)
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
func (r *ImageReconciler) credentials(ctx context.Context, ref string, with apiv1.PullCredentials) (dockerstate.PullAuth, string, error) {
	if r.Auth == nil {
		return dockerstate.PullAuth{}, "", nil
	}
	a, err := r.Auth.Auth(ctx, registryauth.Request{
		Image:                ref,
		CredentialsParameter: with.CredentialsParameter,
		ExecutionRoleArn:     with.ExecutionRoleArn,
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
// daemon message. img is the callback's own copy of the image.
func (r *ImageReconciler) progress(ctx context.Context, img *apiv1.Image, start time.Time) func(done, total int64) {
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
		img.Status.Progress = &apiv1.PullProgress{StartedAt: metav1.NewMicroTime(start), Done: done, Total: total}
		if err := r.Store.UpdateStatus(ctx, img); err != nil {
			log.FromContext(ctx).V(1).Info("record pull progress", "error", err.Error())
		}
	}
}

// trackUsers records which tasks use the image (those with a request in
// the spec), and when it was last used.
func (r *ImageReconciler) trackUsers(img *apiv1.Image) {
	users := make([]string, 0, len(img.Spec.Requests))
	for _, req := range img.Spec.Requests {
		users = append(users, req.Task)
	}
	if len(users) == 0 {
		users = nil
	}
	if !slices.Equal(users, img.Status.Users) {
		// A user coming or going is a use: the image was needed until now.
		img.Status.LastUsedAt = microTime(r.Now())
		img.Status.Users = users
	}
}

func (r *ImageReconciler) event(img *apiv1.Image, eventType, reason, format string, args ...any) {
	if r.Events != nil {
		r.Events.Eventf(img, eventType, reason, format, args...)
	}
}
