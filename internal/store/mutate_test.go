package store_test

import (
	"context"
	"errors"
	"testing"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/store/storetest"
)

func TestMutateRetriesAfterAConflictingWrite(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	storetest.MustCreate(t, s, storetest.NewTask("a"))
	calls := 0
	got, err := store.Mutate(ctx, s, "a", func(task *apiv1.Task) error {
		calls++
		if calls == 1 { // someone else writes between our read and update
			other := storetest.NewTask("a")
			other.Spec.Family = "theirs"
			if err := s.Update(ctx, other); err != nil {
				t.Fatalf("interfering update: %v", err)
			}
		}
		task.Status.StoppedReason = "mine"
		return nil
	})
	if err != nil {
		t.Fatalf("mutate: %v", err)
	}
	if calls != 2 || got.Spec.Family != "theirs" || got.Status.StoppedReason != "mine" {
		t.Errorf("fn calls %d, result family %q reason %q; want 2, theirs, mine", calls, got.Spec.Family, got.Status.StoppedReason)
	}
}

func TestMutateGivesUpAfterBoundedConflicts(t *testing.T) {
	s, _ := openTemp(t)
	storetest.MustCreate(t, s, storetest.NewTask("a"))
	f := store.NewFaulty(s)
	f.FailNext("Update", -1, store.ErrConflict)
	_, err := store.Mutate(context.Background(), f, "a", func(*apiv1.Task) error { return nil })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("mutate under endless conflicts: %v, want ErrConflict", err)
	}
	if n := f.Calls("Update"); n != store.MutateAttempts {
		t.Errorf("Update called %d times, want %d", n, store.MutateAttempts)
	}
}

func TestMutateStopsOnErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		obj  string
		fn   func(*apiv1.Task) error
		want error
	}{
		{"missing object", "ghost", func(*apiv1.Task) error { return nil }, store.ErrNotFound},
		{"fn fails", "a", func(*apiv1.Task) error { return boom }, boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTemp(t)
			storetest.MustCreate(t, s, storetest.NewTask("a"))
			if _, err := store.Mutate(context.Background(), s, tc.obj, tc.fn); !errors.Is(err, tc.want) {
				t.Errorf("mutate: %v, want %v", err, tc.want)
			}
		})
	}
}
