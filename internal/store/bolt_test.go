package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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

func newTask(name string) *apiv1.Task {
	return &apiv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       apiv1.TaskSpec{Arn: "arn:aws:ecs:local:000000000000:task/default/" + name, Family: "web", Revision: 1},
	}
}

func mustCreate(t testing.TB, s store.Store, obj store.Object) {
	t.Helper()
	if err := s.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %s: %v", obj.GetName(), err)
	}
}

func TestCreateGetListDeleteRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, n := range []string{"c", "a", "b"} {
		mustCreate(t, s, newTask(n))
	}

	var got apiv1.Task
	got.Status.StoppedReason = "stale value from an earlier read"
	if err := s.Get(ctx, "a", &got); err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.APIVersion != "agent.ecs.local/v1" || got.Kind != "Task" {
		t.Errorf("TypeMeta = %q %q, want agent.ecs.local/v1 Task", got.APIVersion, got.Kind)
	}
	if got.UID == "" || got.ResourceVersion == "" || got.CreationTimestamp.IsZero() {
		t.Errorf("store-owned metadata not set: uid %q rv %q created %v", got.UID, got.ResourceVersion, got.CreationTimestamp)
	}
	if got.Spec.Family != "web" || got.Status.StoppedReason != "" {
		t.Errorf("Get did not replace obj's contents: %+v", got)
	}

	var list apiv1.TaskList
	if err := s.List(ctx, &list); err != nil {
		t.Fatalf("list: %v", err)
	}
	var names []string
	for _, it := range list.Items {
		names = append(names, it.Name)
		if it.Kind != "Task" || it.APIVersion != "agent.ecs.local/v1" {
			t.Errorf("item %s TypeMeta = %q %q", it.Name, it.APIVersion, it.Kind)
		}
	}
	if want := []string{"a", "b", "c"}; !equalStrings(names, want) {
		t.Errorf("list names = %v, want %v", names, want)
	}
	if list.Kind != "TaskList" || list.ResourceVersion == "" {
		t.Errorf("list TypeMeta/ListMeta = %q rv %q", list.Kind, list.ResourceVersion)
	}

	if err := s.Delete(ctx, &got); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := s.Get(ctx, "a", &got); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, newTask("a")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

func TestListOfEmptyKindIsEmpty(t *testing.T) {
	s, _ := openTemp(t)
	list := apiv1.ImageList{Items: []apiv1.Image{{}}}
	if err := s.List(context.Background(), &list); err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Items) != 0 {
		t.Errorf("items = %v, want none", list.Items)
	}
}

func TestCreateRefusesTakenNameAndLeavesObjAlone(t *testing.T) {
	s, _ := openTemp(t)
	mustCreate(t, s, newTask("a"))
	dup := newTask("a")
	err := s.Create(context.Background(), dup)
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("create taken name: %v, want ErrAlreadyExists", err)
	}
	if dup.UID != "" || dup.ResourceVersion != "" {
		t.Errorf("failed create changed obj: uid %q rv %q", dup.UID, dup.ResourceVersion)
	}
}

func TestStaleResourceVersionConflicts(t *testing.T) {
	ctx := context.Background()
	for _, op := range []string{"Update", "Delete"} {
		t.Run(op, func(t *testing.T) {
			s, _ := openTemp(t)
			stale := newTask("a")
			mustCreate(t, s, stale)
			fresh := stale.DeepCopy()
			fresh.Status.StoppedReason = "changed by someone else"
			if err := s.Update(ctx, fresh); err != nil {
				t.Fatalf("first update: %v", err)
			}
			stale.Status.StoppedReason = "mine"
			var err error
			if op == "Update" {
				err = s.Update(ctx, stale)
			} else {
				err = s.Delete(ctx, stale)
			}
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("%s with stale resourceVersion: %v, want ErrConflict", op, err)
			}
			var got apiv1.Task
			if err := s.Get(ctx, "a", &got); err != nil || got.Status.StoppedReason != "changed by someone else" {
				t.Errorf("after conflict: err %v, stored reason %q", err, got.Status.StoppedReason)
			}
		})
	}
}

func TestUpdateOfMissingObjectIsNotFound(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Update(context.Background(), newTask("ghost")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update missing: %v, want ErrNotFound", err)
	}
}

func TestUpdateSetsNewResourceVersionAndKeepsIdentity(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	obj := newTask("a")
	mustCreate(t, s, obj)
	uid, rv := obj.UID, obj.ResourceVersion

	// An update without a resource version is unconditional, and a caller
	// cannot change the UID.
	blind := newTask("a")
	blind.UID = "forged"
	blind.Status.StoppedReason = "blind write"
	if err := s.Update(ctx, blind); err != nil {
		t.Fatalf("unconditional update: %v", err)
	}
	if blind.ResourceVersion == rv || blind.ResourceVersion == "" {
		t.Errorf("resourceVersion after update = %q (was %q)", blind.ResourceVersion, rv)
	}
	var got apiv1.Task
	if err := s.Get(ctx, "a", &got); err != nil {
		t.Fatal(err)
	}
	if got.UID != uid || got.ResourceVersion != blind.ResourceVersion || got.Status.StoppedReason != "blind write" {
		t.Errorf("stored uid %q rv %q reason %q; want uid %q rv %q", got.UID, got.ResourceVersion, got.Status.StoppedReason, uid, blind.ResourceVersion)
	}
}

func TestUnchangedUpdateWritesNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	events := make(chan store.Event, 10)
	defer s.Watch("", func(e store.Event) { events <- e })()

	obj := newTask("a")
	mustCreate(t, s, obj)
	mustCreate(t, s, newTask("b"))
	<-events
	<-events
	rv := obj.ResourceVersion

	var got apiv1.Task
	if err := s.Get(ctx, "a", &got); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, &got); err != nil {
		t.Fatalf("unchanged update: %v", err)
	}
	if err := s.Update(ctx, obj); err != nil { // from Create: TypeMeta and all
		t.Fatalf("unchanged update of created obj: %v", err)
	}
	if got.ResourceVersion != rv || obj.ResourceVersion != rv {
		t.Errorf("resourceVersion moved to %q / %q, want %q", got.ResourceVersion, obj.ResourceVersion, rv)
	}
	// Events come in commit order, so if the unchanged updates had written,
	// their events would come before this one.
	b := newTask("b")
	if err := s.Get(ctx, "b", b); err != nil {
		t.Fatal(err)
	}
	b.Status.StoppedReason = "changed"
	if err := s.Update(ctx, b); err != nil {
		t.Fatal(err)
	}
	if e := <-events; e.Name != "b" || e.Type != store.Modified {
		t.Errorf("next event = %s %s, want MODIFIED b", e.Type, e.Name)
	}
	var again apiv1.Task
	if err := s.Get(ctx, "a", &again); err != nil || again.ResourceVersion != rv {
		t.Errorf("stored resourceVersion = %q (err %v), want %q", again.ResourceVersion, err, rv)
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
		obj := newTask("t" + strconv.Itoa(i))
		mustCreate(t, s, obj)
		last = obj.ResourceVersion
	}
	img := &apiv1.Image{ObjectMeta: metav1.ObjectMeta{Name: "busybox"}, Spec: apiv1.ImageSpec{Ref: "busybox:latest"}}
	mustCreate(t, s, img)
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
	next := newTask("after")
	mustCreate(t, s, next)
	if a, b := atoi(t, next.ResourceVersion), atoi(t, last); a <= b+1 {
		t.Errorf("resourceVersion after reopen = %d, want > %d (counter must survive)", a, b+1)
	}
}

func TestCloseIsIdempotentAndLaterCallsFail(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	var list apiv1.TaskList
	for name, err := range map[string]error{
		"Get":    s.Get(ctx, "a", &apiv1.Task{}),
		"List":   s.List(ctx, &list),
		"Create": s.Create(ctx, newTask("a")),
		"Update": s.Update(ctx, newTask("a")),
		"Delete": s.Delete(ctx, newTask("a")),
	} {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after close: %v, want ErrClosed", name, err)
		}
	}
	s.Watch("", func(store.Event) {})() // a no-op, not a panic
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
	mustCreate(t, s, newTask("a"))
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
	if err := ro.Create(ctx, newTask("b")); !errors.Is(err, store.ErrReadOnly) {
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

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("resourceVersion %q: %v", s, err)
	}
	return n
}
