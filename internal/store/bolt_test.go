package store_test

import (
	"context"
	"errors"
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
	for _, mode := range []string{"hybrid", "solo", "batch"} {
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

// A write that bbolt refuses (a key over its 32KiB limit) fails its own
// batch: bbolt rolls the batch back and runs the others again. They must
// still commit once each, with one event each and no gap in versions.
func TestBatchRerunAfterAFailedWriteCommitsOthersOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	store.SetWriteMode(s, "batch")
	store.SetBatchDelay(s, 100*time.Millisecond) // so that all land in one batch
	var events []store.Event
	defer s.Watch("", func(e store.Event) { events = append(events, e) })()

	const good = 10
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
	if err := s.List(ctx, &list); err != nil || len(list.Items) != good {
		t.Fatalf("list: %d items (err %v), want %d", len(list.Items), err, good)
	}
	if len(events) != good {
		t.Fatalf("%d events, want %d", len(events), good)
	}
	for i, e := range events {
		if want := strconv.Itoa(i + 1); e.Object.GetResourceVersion() != want {
			t.Errorf("event %d (%s) has resourceVersion %s, want %s", i, e.Name, e.Object.GetResourceVersion(), want)
		}
	}
}
