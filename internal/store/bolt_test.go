package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/store/storetest"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

func openTemp(t testing.TB) (*store.Bolt, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "agent.db")
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// TestBoltKeepsTheStoreContract runs the contract on each of bbolt's write
// paths.
func TestBoltKeepsTheStoreContract(t *testing.T) {
	for _, mode := range []string{"group", "solo", "batch"} {
		t.Run(mode, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				s, _ := openTemp(t)
				store.SetWriteMode(s, mode)
				return s
			})
		})
	}
}

func TestReopenAfterCloseKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "agent.db")
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var last string
	for i := range 20 {
		obj := storetest.NewTask("t" + strconv.Itoa(i))
		storetest.MustCreate(t, s, obj)
		last = obj.ResourceVersion
	}
	img := &apiv1.Image{ObjectMeta: metav1.ObjectMeta{Name: "busybox"}, Spec: apiv1.ImageSpec{Ref: "busybox:latest"}}
	storetest.MustCreate(t, s, img)
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	s, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	var tasks apiv1.TaskList
	if err := s.List(ctx, &tasks); err != nil || len(tasks.Items) != 20 {
		t.Fatalf("tasks after reopen: %d (err %v), want 20", len(tasks.Items), err)
	}
	var gotImg apiv1.Image
	if err := s.Get(ctx, "busybox", &gotImg); err != nil || gotImg.Spec.Ref != "busybox:latest" || gotImg.UID != img.UID {
		t.Errorf("image after reopen: %+v (err %v)", gotImg, err)
	}
	next := storetest.NewTask("after")
	storetest.MustCreate(t, s, next)
	a, errA := strconv.Atoi(next.ResourceVersion)
	b, errB := strconv.Atoi(last)
	if errA != nil || errB != nil || a <= b+1 {
		t.Errorf("resourceVersion after reopen = %q, want a number > %q + 1 (counter must survive)", next.ResourceVersion, last)
	}
}

func TestOpenWhileHeldFailsWithErrLocked(t *testing.T) {
	_, path := openTemp(t) // held open until the test ends
	for _, tc := range []struct {
		name string
		opts store.Options
	}{
		{"read-only, no wait", store.Options{ReadOnly: true}},
		{"read-write, bounded wait", store.Options{LockTimeout: 200 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := store.Open(path, tc.opts)
			if !errors.Is(err, store.ErrLocked) {
				t.Fatalf("open held file: %v, want ErrLocked", err)
			}
			if took := time.Since(start); took > tc.opts.LockTimeout+time.Second {
				t.Errorf("open took %s, want about %s", took, tc.opts.LockTimeout)
			}
		})
	}
}

func TestReadOnlyOpenReadsAndRefusesWrites(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	storetest.MustCreate(t, s, storetest.NewTask("a"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open read-only: %v", err)
	}
	defer ro.Close()
	if err := ro.Get(ctx, "a", &apiv1.Task{}); err != nil {
		t.Errorf("read-only get: %v", err)
	}
	if err := ro.Create(ctx, storetest.NewTask("b")); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("read-only create: %v, want ErrReadOnly", err)
	}
}

func TestReadOnlyOpenOfMissingFileFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope", "agent.db")
	if _, err := store.Open(path, store.Options{ReadOnly: true}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("open missing read-only: %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only open created %s", filepath.Dir(path))
	}
}

func TestOpenCreatesPrivateFileAndDirectory(t *testing.T) {
	_, path := openTemp(t)
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %o, want %o", p, got, want)
		}
	}
}

func TestKindOfIsTheTypeNameWithoutList(t *testing.T) {
	for _, tc := range []struct {
		obj  runtime.Object
		want string
	}{
		{&apiv1.Task{}, "Task"},
		{&apiv1.TaskList{}, "Task"},
		{&apiv1.PortAllocation{}, "PortAllocation"},
		{&apiv1.PortAllocationList{}, "PortAllocation"},
		{&apiv1.ImageList{}, "Image"},
	} {
		if got := store.KindOf(tc.obj); got != tc.want {
			t.Errorf("KindOf(%T) = %q, want %q", tc.obj, got, tc.want)
		}
	}
}

// holdWrites starts a write that waits inside its transaction until the
// returned release is called, so that the writes after it queue up for the
// group commit and are committed together.
func holdWrites(t *testing.T, s *store.Bolt) (release func()) {
	t.Helper()
	ctx := context.Background()
	storetest.MustCreate(t, s, storetest.NewTask("holder"))
	inside, free, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	var once sync.Once
	go func() {
		var obj apiv1.Task
		obj.Name = "holder"
		done <- s.UpdateWith(ctx, &obj, func() error {
			once.Do(func() { close(inside) })
			<-free
			obj.Status.StoppedReason = "held"
			return nil
		})
	}()
	<-inside
	return func() {
		close(free)
		if err := <-done; err != nil {
			t.Errorf("holding write: %v", err)
		}
	}
}

func waitQueued(t *testing.T, s *store.Bolt, n int) {
	t.Helper()
	testwait.For(t, fmt.Sprintf("%d writes queued", n), 10*time.Second, time.Millisecond, func() (bool, string) {
		q := store.QueuedWrites(s)
		return q == n, fmt.Sprintf("%d queued", q)
	})
}

// A write that bbolt refuses (a key over its 32KiB limit) fails the batch
// or group it was committed with: bbolt rolls it back, and the others are
// committed again without it. They must commit once each, with one event
// each and no gap in versions, and the refused one get its own error.
func TestRerunAfterAFailedWriteCommitsOthersOnce(t *testing.T) {
	const good = 10
	for _, mode := range []string{"batch", "group"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			s, _ := openTemp(t)
			store.SetWriteMode(s, mode)
			// together lets the writes go once they wait to be committed
			// as one.
			together := func() {}
			if mode == "batch" {
				store.SetBatchDelay(s, 100*time.Millisecond)
			} else {
				release := holdWrites(t, s)
				together = func() { waitQueued(t, s, good+1); release() }
			}
			var events []store.Event
			defer s.Watch("Task", func(e store.Event) {
				if strings.HasPrefix(e.Name, "ok") {
					events = append(events, e)
				}
			})()
			var wg sync.WaitGroup
			errs := make([]error, good+1)
			for i := range good + 1 {
				wg.Go(func() {
					name := "ok" + strconv.Itoa(i)
					if i == good {
						name = strings.Repeat("x", 40000)
					}
					errs[i] = s.Create(ctx, storetest.NewTask(name))
				})
			}
			together()
			wg.Wait()
			for i, err := range errs[:good] {
				if err != nil {
					t.Errorf("create ok%d: %v", i, err)
				}
			}
			if errs[good] == nil {
				t.Errorf("create with a 40000-byte name succeeded")
			}
			var list apiv1.TaskList
			if err := s.List(ctx, &list); err != nil {
				t.Fatal(err)
			}
			stored := 0
			for _, task := range list.Items {
				if strings.HasPrefix(task.Name, "ok") {
					stored++
				}
			}
			if stored != good || len(events) != good {
				t.Fatalf("%d stored, %d events, want %d", stored, len(events), good)
			}
			first := resourceVersionOf(t, events[0].Object)
			for i, e := range events {
				if got := resourceVersionOf(t, e.Object); got != first+i {
					t.Errorf("event %d (%s) has resourceVersion %d, want %d", i, e.Name, got, first+i)
				}
			}
		})
	}
}

// A change that panics inside a group commit panics in its own writer's
// goroutine; the writes committed with it are committed, not left waiting.
func TestGroupCommitPanicReachesItsWriterOnly(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	storetest.MustCreate(t, s, storetest.NewTask("p"))
	release := holdWrites(t, s)
	recovered := make(chan any, 1)
	go func() {
		defer func() { recovered <- recover() }()
		var obj apiv1.Task
		obj.Name = "p"
		_ = s.UpdateWith(ctx, &obj, func() error { panic("change failed badly") })
	}()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Create(ctx, storetest.NewTask("ok"+strconv.Itoa(i))) })
	}
	waitQueued(t, s, 3)
	release()
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Errorf("writes grouped with a panicking one: %v", errs)
	}
	if p := <-recovered; p != "change failed badly" {
		t.Errorf("the panicking writer recovered %v, want its panic", p)
	}
}

func resourceVersionOf(t *testing.T, obj store.Object) int {
	t.Helper()
	n, err := strconv.Atoi(obj.GetResourceVersion())
	if err != nil {
		t.Fatalf("resourceVersion %q: %v", obj.GetResourceVersion(), err)
	}
	return n
}
