package storetest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

func createGetListDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, n := range []string{"c", "a", "b"} {
		MustCreate(t, s, NewTask(n))
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
	if want := []string{"a", "b", "c"}; !slices.Equal(names, want) {
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
	if err := s.Delete(ctx, NewTask("a")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

func listOfEmptyKind(t *testing.T, s store.Store) {
	list := apiv1.ImageList{Items: []apiv1.Image{{}}}
	if err := s.List(context.Background(), &list); err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Items) != 0 {
		t.Errorf("items = %v, want none", list.Items)
	}
}

func createRefusesTakenName(t *testing.T, s store.Store) {
	MustCreate(t, s, NewTask("a"))
	dup := NewTask("a")
	err := s.Create(context.Background(), dup)
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("create taken name: %v, want ErrAlreadyExists", err)
	}
	if dup.UID != "" || dup.ResourceVersion != "" {
		t.Errorf("failed create changed obj: uid %q rv %q", dup.UID, dup.ResourceVersion)
	}
}

func staleResourceVersionConflicts(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, op := range []string{"Update", "Delete"} {
		t.Run(op, func(t *testing.T) {
			name := "stale-" + op
			stale := NewTask(name)
			MustCreate(t, s, stale)
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
			if err := s.Get(ctx, name, &got); err != nil || got.Status.StoppedReason != "changed by someone else" {
				t.Errorf("after conflict: err %v, stored reason %q", err, got.Status.StoppedReason)
			}
		})
	}
}

func updateOfMissingObject(t *testing.T, s store.Store) {
	if err := s.Update(context.Background(), NewTask("ghost")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update missing: %v, want ErrNotFound", err)
	}
}

func updateSetsNewResourceVersion(t *testing.T, s store.Store) {
	ctx := context.Background()
	obj := NewTask("a")
	MustCreate(t, s, obj)
	uid, rv := obj.UID, obj.ResourceVersion

	// An update without a resource version is unconditional, and a caller
	// cannot change the UID.
	blind := NewTask("a")
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

func unchangedUpdateWritesNothing(t *testing.T, s store.Store) {
	ctx := context.Background()
	events := make(chan store.Event, 10)
	defer s.Watch("", func(e store.Event) { events <- e })()

	obj := NewTask("a")
	MustCreate(t, s, obj)
	MustCreate(t, s, NewTask("b"))
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
	b := NewTask("b")
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

func closeIsIdempotent(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	var list apiv1.TaskList
	for name, err := range map[string]error{
		"Get":        s.Get(ctx, "a", &apiv1.Task{}),
		"List":       s.List(ctx, &list),
		"Create":     s.Create(ctx, NewTask("a")),
		"Update":     s.Update(ctx, NewTask("a")),
		"UpdateWith": s.UpdateWith(ctx, NewTask("a"), func() error { return nil }),
		"Delete":     s.Delete(ctx, NewTask("a")),
	} {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after close: %v, want ErrClosed", name, err)
		}
	}
	s.Watch("", func(store.Event) {})() // a no-op, not a panic
}

// resourceVersion is obj's resource version as the number it is.
func resourceVersion(t testing.TB, obj store.Object) int {
	t.Helper()
	n, err := strconv.Atoi(obj.GetResourceVersion())
	if err != nil {
		t.Fatalf("resourceVersion %q of %s: %v", obj.GetResourceVersion(), obj.GetName(), err)
	}
	return n
}
