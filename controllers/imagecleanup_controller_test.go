package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate/dockerfake"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// cleanupFixture is the task fixture plus an image cleanup reconciler over
// the same real bbolt store and Docker fake.
type cleanupFixture struct {
	*fixture
	c      *ImageCleanupReconciler
	events *eventLog
}

type eventLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *eventLog) Eventf(obj store.Object, _, reason, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, reason+": "+fmt.Sprintf(format, args...))
}

func newCleanupFixture(t *testing.T) *cleanupFixture {
	f := newFixture(t)
	events := &eventLog{}
	return &cleanupFixture{fixture: f, events: events, c: &ImageCleanupReconciler{
		Store: f.store, Docker: f.docker, Events: events, Now: func() time.Time { return f.now },
		Interval: time.Minute, MinimumAge: time.Hour, PerCycle: 2,
	}}
}

// seedImage puts ref on the fake daemon and tracks it as the images
// reconciler would after a pull at pulledAt, last used at lastUsed.
func (f *cleanupFixture) seedImage(ref string, size int64, pulledAt, lastUsed time.Time) {
	f.t.Helper()
	local := f.docker.AddImage(ref, dockerstate.Image{Size: size})
	img := &apiv1.Image{Spec: apiv1.ImageSpec{Ref: ref}}
	img.Name = apiv1.ImageObjectName(ref)
	if err := f.store.Create(f.ctx, img); err != nil {
		f.t.Fatal(err)
	}
	img.Status = apiv1.ImageStatus{Phase: apiv1.ImagePresent, ImageID: local.ID, Size: size,
		PulledAt: microTime(pulledAt), LastUsedAt: microTime(lastUsed)}
	if err := f.store.Update(f.ctx, img); err != nil {
		f.t.Fatal(err)
	}
}

func (f *cleanupFixture) cycle() CycleResult {
	f.t.Helper()
	res, err := f.c.Cycle(f.ctx)
	if err != nil {
		f.t.Fatalf("cleanup cycle: %v", err)
	}
	return res
}

func (f *cleanupFixture) present(ref string) bool {
	_, ok, _ := f.docker.ImagePresent(f.ctx, ref)
	return ok
}

func (f *cleanupFixture) tracked(ref string) *apiv1.Image {
	var img apiv1.Image
	if err := f.store.Get(f.ctx, apiv1.ImageObjectName(ref), &img); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		f.t.Fatal(err)
	}
	return &img
}

func TestImageCleanupRemovesLeastRecentlyUsedFirstAtMostNPerCycle(t *testing.T) {
	f := newCleanupFixture(t)
	old := f.now.Add(-24 * time.Hour)
	// Last used in the order 3, 1, 4, 0, 2 (oldest first).
	for i, used := range []int{4, 2, 5, 1, 3} {
		f.seedImage(fmt.Sprintf("app/c%d:1", i), 3<<20, old, old.Add(time.Duration(used)*time.Minute))
	}
	var order []string
	for _, want := range [][]string{{"app/c3:1", "app/c1:1"}, {"app/c4:1", "app/c0:1"}, {"app/c2:1"}} {
		res := f.cycle()
		if !slices.Equal(res.Removed, want) {
			t.Fatalf("cycle removed %v, want %v (so far %v)", res.Removed, want, order)
		}
		order = append(order, res.Removed...)
		for _, ref := range res.Removed {
			if f.present(ref) || f.tracked(ref) != nil {
				t.Fatalf("%s still on the host or tracked after its removal", ref)
			}
		}
	}
	if res := f.cycle(); len(res.Removed) != 0 {
		t.Fatalf("empty cycle removed %v", res.Removed)
	}
	if len(f.events.msgs) != 5 || !strings.Contains(f.events.msgs[0], "ImageRemoved: removed app/c3:1") || !strings.Contains(f.events.msgs[0], "freed 3 MB") {
		t.Fatalf("events %q, want 5 ImageRemoved events naming the image and the MB freed", f.events.msgs)
	}
}

func TestImageCleanupKeepsInUseExcludedYoungAndUntrackedImages(t *testing.T) {
	f := newCleanupFixture(t)
	f.c.PerCycle = 10
	f.c.Exclude = []string{"keep/me"}
	old := f.now.Add(-24 * time.Hour)
	f.seedImage(testImage, 1000, old, old) // used by a running task
	f.seedImage("keep/me:latest", 1000, old, old)
	f.seedImage("young/one:1", 1000, f.now.Add(-time.Minute), f.now.Add(-time.Minute))
	f.seedImage("stopped/user:1", 1000, old, old)
	f.seedImage("unused/one:1", 1000, old, old)
	f.docker.AddImage("untracked/one:1", dockerstate.Image{})

	f.addTask("running", ctr("main"))
	if task := f.settle("running"); task.Status.KnownStatus != apiv1.StatusRunning {
		t.Fatalf("task is %s, want RUNNING", task.Status.KnownStatus)
	}
	// A task whose container is gone and that is STOPPED no longer uses
	// its image.
	stopped := &apiv1.Task{Spec: apiv1.TaskSpec{Arn: "arn:aws:ecs:local:0:task/test/stopped", DesiredStatus: apiv1.StatusStopped,
		Containers: []apiv1.ContainerSpec{{Name: "c", Image: "stopped/user:1"}}}}
	stopped.Name = "stopped"
	stopped.Status.KnownStatus = apiv1.StatusStopped
	if err := f.store.Create(f.ctx, stopped); err != nil {
		t.Fatal(err)
	}

	res := f.cycle()
	slices.Sort(res.Removed)
	if want := []string{"stopped/user:1", "unused/one:1"}; !slices.Equal(res.Removed, want) {
		t.Fatalf("removed %v, want %v", res.Removed, want)
	}
	for _, ref := range []string{testImage, "keep/me:latest", "young/one:1", "untracked/one:1"} {
		if !f.present(ref) {
			t.Errorf("%s was removed", ref)
		}
	}
}

func TestImageCleanupKeepsImageDockerRefusesAndUnmarksIt(t *testing.T) {
	f := newCleanupFixture(t)
	old := f.now.Add(-24 * time.Hour)
	f.seedImage(testImage, 1000, old, old)
	f.addTask("t1", ctr("main"))
	f.settle("t1")
	// Stop the task: its container stays until the cleanup wait, and
	// Docker will not remove an image a container was created from.
	if _, err := store.Mutate(f.ctx, f.store, "t1", func(t *apiv1.Task) error {
		t.Spec.DesiredStatus = apiv1.StatusStopped
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.docker.Exit(f.task("t1").Status.Containers[0].DockerID, 0)
	if task := f.settle("t1"); task.Status.KnownStatus != apiv1.StatusStopped {
		t.Fatalf("task is %s, want STOPPED", task.Status.KnownStatus)
	}
	if res := f.cycle(); len(res.Removed) != 0 {
		t.Fatalf("removed %v while a container uses it", res.Removed)
	}
	img := f.tracked(testImage)
	if !f.present(testImage) || img == nil || img.BeingRemoved() {
		t.Fatalf("image present %v, tracked %v, still marked: want kept and unmarked", f.present(testImage), img != nil)
	}
}

// hookStore calls onMark right after image cleanup's mark is written, i.e.
// before cleanup lists the tasks again.
type hookStore struct {
	store.Store
	onMark func()
}

func (s *hookStore) UpdateWith(ctx context.Context, obj store.Object, change func() error) error {
	err := s.Store.UpdateWith(ctx, obj, change)
	if img, ok := obj.(*apiv1.Image); ok && err == nil && img.BeingRemoved() && s.onMark != nil {
		hook := s.onMark
		s.onMark = nil
		hook()
	}
	return err
}

// hookDocker calls beforeDelete before the fake removes an image, i.e. after
// cleanup's second look at the tasks.
type hookDocker struct {
	*dockerfake.Fake
	beforeDelete func()
}

func (d *hookDocker) DeleteImage(ctx context.Context, ref string) (dockerstate.ImageRemoval, error) {
	if d.beforeDelete != nil {
		d.beforeDelete()
	}
	return d.Fake.DeleteImage(ctx, ref)
}

func TestTaskWrittenWhileItsImageIsMarkedStartsWithThatImage(t *testing.T) {
	f := newCleanupFixture(t)
	old := f.now.Add(-24 * time.Hour)
	f.seedImage(testImage, 1000, old, old)
	hs := &hookStore{Store: f.store}
	f.c.Store = hs
	hs.onMark = func() {
		f.addTask("t1", ctr("main"))
		if task := f.settle("t1"); task.Status.KnownStatus != apiv1.StatusNone || task.Status.Containers[0].DockerID != "" {
			t.Errorf("task created a container from an image being removed: %s", task.Status.KnownStatus)
		}
	}
	if res := f.cycle(); len(res.Removed) != 0 {
		t.Fatalf("removed %v although a task was written before cleanup's second look", res.Removed)
	}
	if f.docker.Calls(dockerfake.DeleteImage) != 0 {
		t.Fatal("cleanup asked Docker to remove the image")
	}
	if task := f.settle("t1"); task.Status.KnownStatus != apiv1.StatusRunning {
		t.Fatalf("task is %s after the mark was taken back, want RUNNING (%s)", task.Status.KnownStatus, task.Status.StoppedReason)
	}
	if f.docker.Calls(dockerfake.PullImage) != 0 {
		t.Fatal("the image was pulled although it never left the host")
	}
}

func TestTaskThatLosesTheRaceWithRemovalPullsAndStarts(t *testing.T) {
	f := newCleanupFixture(t)
	old := f.now.Add(-24 * time.Hour)
	f.seedImage(testImage, 1000, old, old)
	hd := &hookDocker{Fake: f.docker}
	f.c.Docker = hd
	hd.beforeDelete = func() {
		hd.beforeDelete = nil
		f.addTask("t1", ctr("main"))
		if task := f.settle("t1"); task.Status.Containers[0].DockerID != "" {
			t.Errorf("task created a container from an image being removed")
		}
	}
	if res := f.cycle(); !slices.Equal(res.Removed, []string{testImage}) {
		t.Fatalf("removed %v, want the image (the task came after the decision)", res.Removed)
	}
	f.settle("t1")
	images := &ImageReconciler{Store: f.store, Docker: f.docker, Now: func() time.Time { return f.now }}
	if _, err := images.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: apiv1.ImageObjectName(testImage)}}); err != nil {
		t.Fatal(err)
	}
	if task := f.settle("t1"); task.Status.KnownStatus != apiv1.StatusRunning {
		t.Fatalf("task is %s after losing the race, want RUNNING after a pull (%s)", task.Status.KnownStatus, task.Status.StoppedReason)
	}
	if f.docker.Calls(dockerfake.PullImage) != 1 {
		t.Fatalf("%d pulls, want 1", f.docker.Calls(dockerfake.PullImage))
	}
}

func TestDiskUsageModeRemovesFromHighUntilBelowLow(t *testing.T) {
	f := newCleanupFixture(t)
	f.c.PerCycle = 1
	f.c.DiskHighPercent, f.c.DiskLowPercent = 85, 80
	old := f.now.Add(-24 * time.Hour)
	for i := range 4 {
		f.seedImage(fmt.Sprintf("app/d%d:1", i), 5<<20, old, old.Add(time.Duration(i)*time.Minute))
	}
	// The fixture's own image (1000 bytes) is tracked by no Image object.
	f.docker.SetDisk(100<<20, 70<<20-1000) // 90% used
	res := f.cycle()
	if want := []string{"app/d0:1", "app/d1:1", "app/d2:1"}; !slices.Equal(res.Removed, want) {
		t.Fatalf("removed %v, want %v: from 90%% to under 80%%, ignoring the per-cycle count", res.Removed, want)
	}
	if res.Freed != 15<<20 {
		t.Fatalf("freed %d, want %d", res.Freed, 15<<20)
	}
	f.docker.SetDisk(100<<20, 0)
	if res := f.cycle(); len(res.Removed) != 0 {
		t.Fatalf("removed %v below the high mark", res.Removed)
	}
}

func TestImageCleanupClearsStaleMarksBeforeItsFirstCycle(t *testing.T) {
	f := newCleanupFixture(t)
	old := f.now.Add(-24 * time.Hour)
	f.seedImage("app/kept:1", 1000, old, old)
	f.seedImage("app/gone:1", 1000, old, old)
	for _, ref := range []string{"app/kept:1", "app/gone:1"} {
		if _, err := store.Mutate(f.ctx, f.store, apiv1.ImageObjectName(ref), func(i *apiv1.Image) error {
			i.Annotations = map[string]string{apiv1.AnnotationImageRemoving: "2020-01-01T00:00:00Z"}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	f.docker.RemoveImage("app/gone:1")
	res, err := f.c.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: imageCleanupKey}})
	if err != nil || res.RequeueAfter != f.c.Interval {
		t.Fatalf("first reconcile: %v, requeue after %s, want the interval", err, res.RequeueAfter)
	}
	if img := f.tracked("app/kept:1"); img == nil || img.BeingRemoved() {
		t.Fatal("a present image is still marked (or forgotten) after start")
	}
	if f.tracked("app/gone:1") != nil {
		t.Fatal("an image removed by a crashed cycle is still tracked")
	}
	if f.docker.Calls(dockerfake.DeleteImage) != 0 {
		t.Fatal("the first pass removed images; it must wait one interval")
	}
}
