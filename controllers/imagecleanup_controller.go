package controllers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// imageCleanupKey is the one key the cleanup controller reconciles: a cycle
// looks at every image.
const imageCleanupKey = "image-cleanup"

// ImageCleanupReconciler removes images no task uses, on a timer: every
// Interval, the least recently used images older than MinimumAge, at most
// PerCycle of them, or, when DiskHighPercent is set, as many as it takes to
// bring the Docker data disk under DiskLowPercent once it is above
// DiskHighPercent. It only removes images the agent tracks (Image objects),
// never an excluded one, and never one a task that is not STOPPED uses.
type ImageCleanupReconciler struct {
	Store  store.Store
	Docker ImageCleanupDocker
	Events Recorder
	Now    Clock

	Interval   time.Duration
	MinimumAge time.Duration
	PerCycle   int
	// Exclude are references never removed (ECS_EXCLUDE_UNTRACKED_IMAGE),
	// matched with an implied :latest.
	Exclude []string
	// DiskHighPercent above 0 turns on the disk-usage mode.
	DiskHighPercent, DiskLowPercent int

	recovered bool
}

var _ reconcile.Reconciler = (*ImageCleanupReconciler)(nil)

// CycleResult is what one cleanup cycle did.
type CycleResult struct {
	Candidates int
	Removed    []string
	Freed      int64
}

// Reconcile implements reconcile.Reconciler: one cleanup cycle, then the
// next one Interval later. The first pass after start only clears marks a
// crashed process left, so that no task waits on them.
func (r *ImageCleanupReconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	if !r.recovered {
		if err := r.clearStaleMarks(ctx); err != nil {
			return reconcile.Result{}, err
		}
		r.recovered = true
		return reconcile.Result{RequeueAfter: r.Interval}, nil
	}
	if _, err := r.Cycle(ctx); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: r.Interval}, nil
}

// Source starts the cleanup timer: one request at start; Reconcile's
// RequeueAfter keeps it going.
func (r *ImageCleanupReconciler) Source() source.Source {
	return source.Func(func(_ context.Context, q Queue) error {
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Name: imageCleanupKey}})
		return nil
	})
}

// Cycle runs one cleanup cycle now.
func (r *ImageCleanupReconciler) Cycle(ctx context.Context) (CycleResult, error) {
	var res CycleResult
	var disk *diskWatch
	if r.DiskHighPercent > 0 {
		d, err := r.Docker.DataDisk(ctx)
		if err != nil {
			return res, fmt.Errorf("image cleanup: %w", err)
		}
		if d.UsedPercent() < float64(r.DiskHighPercent) {
			log.FromContext(ctx).V(1).Info("image cleanup: nothing removed", "diskUsedPercent", int(d.UsedPercent()))
			return res, nil
		}
		disk = &diskWatch{usage: d}
	}
	candidates, err := r.candidates(ctx)
	if err != nil {
		return res, err
	}
	res.Candidates = len(candidates)
	for _, img := range candidates {
		if r.done(ctx, &res, disk) {
			break
		}
		freed, removed, err := r.remove(ctx, img)
		if err != nil {
			return res, err
		}
		if removed {
			res.Removed = append(res.Removed, img.Spec.Ref)
			res.Freed += freed
		}
	}
	if len(res.Removed) == 0 {
		log.FromContext(ctx).V(1).Info("image cleanup: nothing removed", "candidates", res.Candidates)
	} else {
		log.FromContext(ctx).Info("image cleanup cycle", "removed", res.Removed, "freedMB", res.Freed>>20, "candidates", res.Candidates)
	}
	return res, nil
}

// diskWatch follows the data disk during a disk-usage cycle.
type diskWatch struct{ usage dockerstate.DiskUsage }

// done reports whether the cycle has removed enough: PerCycle images, or,
// in disk-usage mode, enough to be under the low mark.
func (r *ImageCleanupReconciler) done(ctx context.Context, res *CycleResult, disk *diskWatch) bool {
	if disk == nil {
		return len(res.Removed) >= max(r.PerCycle, 1)
	}
	if len(res.Removed) > 0 {
		d, err := r.Docker.DataDisk(ctx)
		if err != nil {
			log.FromContext(ctx).Info("image cleanup: cannot read disk usage; stopping this cycle", "error", err.Error())
			return true
		}
		disk.usage = d
	}
	return disk.usage.UsedPercent() < float64(r.DiskLowPercent)
}

// candidates are the images cleanup may remove now, least recently used
// first: present, tracked, not excluded, older than MinimumAge since their
// pull (or since the agent first saw them), used by no task that is not
// STOPPED.
func (r *ImageCleanupReconciler) candidates(ctx context.Context) ([]apiv1.Image, error) {
	var images apiv1.ImageList
	if err := r.Store.List(ctx, &images); err != nil {
		return nil, fmt.Errorf("image cleanup: list images: %w", err)
	}
	inUse, err := r.refsInUse(ctx)
	if err != nil {
		return nil, err
	}
	now := r.Now()
	var out []apiv1.Image
	for _, img := range images.Items {
		if r.eligible(&img, inUse, now) {
			out = append(out, img)
		}
	}
	slices.SortFunc(out, func(a, b apiv1.Image) int {
		return cmp.Or(lastUsed(&a).Compare(lastUsed(&b)), strings.Compare(a.Name, b.Name))
	})
	return out, nil
}

func (r *ImageCleanupReconciler) eligible(img *apiv1.Image, inUse map[string]bool, now time.Time) bool {
	switch {
	case img.Status.Phase != apiv1.ImagePresent, img.Status.ImageID == "":
		return false
	case len(img.Status.Users) > 0, inUse[img.Spec.Ref]:
		return false
	case r.excluded(img.Spec.Ref):
		return false
	}
	return now.Sub(ageFrom(img)) >= r.MinimumAge
}

// refsInUse are the image references of every task that is not STOPPED,
// read from the store now: a task counts from the moment it is written,
// before its reconciler has looked at it.
func (r *ImageCleanupReconciler) refsInUse(ctx context.Context) (map[string]bool, error) {
	var tasks apiv1.TaskList
	if err := r.Store.List(ctx, &tasks); err != nil {
		return nil, fmt.Errorf("image cleanup: list tasks: %w", err)
	}
	refs := map[string]bool{}
	for _, t := range tasks.Items {
		if t.Status.KnownStatus == apiv1.StatusStopped {
			continue
		}
		for _, c := range t.Spec.Containers {
			refs[c.Image] = true
		}
	}
	return refs, nil
}

func (r *ImageCleanupReconciler) excluded(ref string) bool {
	ref = withTag(ref)
	for _, e := range r.Exclude {
		if withTag(e) == ref {
			return true
		}
	}
	return false
}

// withTag adds the :latest that Docker implies to a reference without a
// tag or digest.
func withTag(ref string) string {
	if strings.Contains(ref, "@") || strings.LastIndexByte(ref, ':') > strings.LastIndexByte(ref, '/') {
		return ref
	}
	return ref + ":latest"
}

// ageFrom is when the image's age starts: its last pull by this agent, or
// when the agent first tracked it.
func ageFrom(img *apiv1.Image) time.Time {
	if img.Status.PulledAt != nil {
		return img.Status.PulledAt.Time
	}
	return img.CreationTimestamp.Time
}

// lastUsed orders candidates: the last time a task stopped or started
// using the image, else when it arrived.
func lastUsed(img *apiv1.Image) time.Time {
	if img.Status.LastUsedAt != nil {
		return img.Status.LastUsedAt.Time
	}
	return ageFrom(img)
}

// errNotCandidate stops the marking of an image that stopped being a
// candidate since the cycle listed it.
var errNotCandidate = errors.New("no longer a cleanup candidate")

// remove removes one candidate without racing a task that starts with it:
//
//  1. mark the Image (apiv1.AnnotationImageRemoving), re-checking on the fresh
//     object that nothing uses it;
//  2. list the tasks again: a task written before the mark is seen here and
//     the mark is taken back; a task written after it reads the mark in its
//     ensureImage and waits;
//  3. remove the image in Docker, never forced: a container created from it
//     by then makes Docker refuse, and the mark is taken back;
//  4. delete the Image object, which requeues any waiting task: it finds the
//     image gone and asks for a pull, so it still starts.
func (r *ImageCleanupReconciler) remove(ctx context.Context, cand apiv1.Image) (int64, bool, error) {
	now := r.Now()
	marked, err := store.Mutate(ctx, r.Store, cand.Name, func(i *apiv1.Image) error {
		// The spec's requests are the users as written, ahead of the
		// status's copy of them.
		if i.Status.ImageID != cand.Status.ImageID || len(i.Spec.Requests) > 0 || len(i.Status.Users) > 0 || i.Status.Phase != apiv1.ImagePresent {
			return errNotCandidate
		}
		if i.Annotations == nil {
			i.Annotations = map[string]string{}
		}
		i.Annotations[apiv1.AnnotationImageRemoving] = now.UTC().Format(time.RFC3339Nano)
		return nil
	})
	switch {
	case errors.Is(err, errNotCandidate), errors.Is(err, store.ErrNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("image cleanup: mark %s: %w", cand.Spec.Ref, err)
	}
	inUse, err := r.refsInUse(ctx)
	if err != nil {
		return 0, false, errors.Join(err, r.unmark(ctx, marked.Name))
	}
	if inUse[marked.Spec.Ref] {
		return 0, false, r.unmark(ctx, marked.Name)
	}
	removal, err := r.Docker.DeleteImage(ctx, marked.Spec.Ref)
	switch {
	case errors.Is(err, dockerstate.ErrImageInUse):
		log.FromContext(ctx).V(1).Info("image cleanup: image in use by a container; kept", "image", marked.Spec.Ref)
		return 0, false, r.unmark(ctx, marked.Name)
	case err != nil && !errors.Is(err, dockerstate.ErrNotFound):
		return 0, false, errors.Join(fmt.Errorf("image cleanup: %w", err), r.unmark(ctx, marked.Name))
	}
	var freed int64
	if len(removal.Deleted) > 0 {
		freed = marked.Status.Size
	}
	r.event(marked, apiv1.EventNormal, "ImageRemoved", "removed %s (%s), unused since %s: freed %d MB",
		marked.Spec.Ref, short(marked.Status.ImageID), lastUsed(marked).UTC().Format(time.RFC3339), freed>>20)
	if err := r.Store.Delete(ctx, marked); err != nil && !errors.Is(err, store.ErrNotFound) {
		// Changed since the mark (a user count update): delete it
		// regardless, the image is gone.
		gone := &apiv1.Image{}
		gone.Name = marked.Name
		if err := r.Store.Delete(ctx, gone); err != nil && !errors.Is(err, store.ErrNotFound) {
			return freed, true, fmt.Errorf("image cleanup: forget %s: %w", marked.Spec.Ref, err)
		}
	}
	return freed, true, nil
}

// unmark takes a removal mark back.
func (r *ImageCleanupReconciler) unmark(ctx context.Context, name string) error {
	_, err := store.Mutate(ctx, r.Store, name, func(i *apiv1.Image) error {
		delete(i.Annotations, apiv1.AnnotationImageRemoving)
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("image cleanup: unmark %s: %w", name, err)
	}
	return nil
}

// clearStaleMarks settles the marks of a process that stopped mid-removal:
// an image still present keeps its object, one that is gone loses it.
func (r *ImageCleanupReconciler) clearStaleMarks(ctx context.Context) error {
	var images apiv1.ImageList
	if err := r.Store.List(ctx, &images); err != nil {
		return fmt.Errorf("image cleanup: list images: %w", err)
	}
	for i := range images.Items {
		img := &images.Items[i]
		if !img.BeingRemoved() {
			continue
		}
		_, present, err := r.Docker.ImagePresent(ctx, img.Spec.Ref)
		if err != nil {
			return fmt.Errorf("image cleanup: look up %s: %w", img.Spec.Ref, err)
		}
		if present {
			if err := r.unmark(ctx, img.Name); err != nil {
				return err
			}
			continue
		}
		if err := r.Store.Delete(ctx, img); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("image cleanup: forget %s: %w", img.Spec.Ref, err)
		}
	}
	return nil
}

func (r *ImageCleanupReconciler) event(img *apiv1.Image, eventType, reason, format string, args ...any) {
	if r.Events != nil {
		r.Events.Eventf(img, eventType, reason, format, args...)
	}
}
