package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// The status writer never conflicts with a spec writer, and neither loses
// the other's change.
func updateStatusKeepsSpecWrittenMeanwhile(t *testing.T, s store.Store) {
	ctx := context.Background()
	MustCreate(t, s, NewTask("a"))

	var reconciler apiv1.Task
	if err := s.Get(ctx, "a", &reconciler); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Mutate(ctx, s, "a", func(t *apiv1.Task) error {
		t.Spec.DesiredStatus = apiv1.StatusStopped
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	reconciler.Status.KnownStatus = apiv1.StatusRunning
	stale := reconciler.ResourceVersion
	if err := s.UpdateStatus(ctx, &reconciler); err != nil {
		t.Fatalf("UpdateStatus with a stale resource version: %v", err)
	}
	if reconciler.Spec.DesiredStatus != apiv1.StatusStopped {
		t.Errorf("obj after UpdateStatus has spec desired %q, want the stored STOPPED", reconciler.Spec.DesiredStatus)
	}
	if reconciler.ResourceVersion == stale {
		t.Errorf("resource version not advanced: %s", stale)
	}
	var got apiv1.Task
	if err := s.Get(ctx, "a", &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.DesiredStatus != apiv1.StatusStopped || got.Status.KnownStatus != apiv1.StatusRunning {
		t.Errorf("stored desired %q known %q, want STOPPED and RUNNING", got.Spec.DesiredStatus, got.Status.KnownStatus)
	}
	if got.ResourceVersion != reconciler.ResourceVersion {
		t.Errorf("stored rv %s, obj rv %s", got.ResourceVersion, reconciler.ResourceVersion)
	}
}

func unchangedUpdateStatusWritesNothing(t *testing.T, s store.Store) {
	ctx := context.Background()
	task := NewTask("a")
	task.Status.KnownStatus = apiv1.StatusPulled
	MustCreate(t, s, task)
	events := make(chan string, 8)
	cancel := s.Watch("Task", func(e store.Event) { events <- e.Object.GetResourceVersion() })
	defer cancel()
	rv := task.ResourceVersion
	if err := s.UpdateStatus(ctx, task); err != nil {
		t.Fatal(err)
	}
	if task.ResourceVersion != rv {
		t.Errorf("unchanged status moved the resource version %s → %s", rv, task.ResourceVersion)
	}
	// A later, real write proves the watch works: events come in commit
	// order, so the first one is the real write's if the unchanged write
	// sent none.
	task.Status.KnownStatus = apiv1.StatusRunning
	if err := s.UpdateStatus(ctx, task); err != nil {
		t.Fatal(err)
	}
	select {
	case rv := <-events:
		if rv != task.ResourceVersion {
			t.Errorf("first watch event at rv %s, want the real write's %s", rv, task.ResourceVersion)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event for a status change within 10s")
	}
}

func updateStatusOfMissingOrStatuslessObject(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.UpdateStatus(ctx, NewTask("gone")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateStatus of a missing task: %v, want ErrNotFound", err)
	}
	ev := &apiv1.Event{}
	ev.Name = "e"
	MustCreate(t, s, ev)
	if err := s.UpdateStatus(ctx, ev); err == nil {
		t.Error("UpdateStatus of an Event (no status) succeeded")
	}
}
