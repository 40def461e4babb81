package store_test

import (
	"context"
	"errors"
	"testing"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/store/storetest"
)

// TestFaultyKeepsTheStoreContract: with no fault injected, the wrapper is
// the store it wraps.
func TestFaultyKeepsTheStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return store.NewFaulty(s)
	})
}

func TestFaultyFailsTheNextNCallsOfAnOp(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	storetest.MustCreate(t, s, storetest.NewTask("a"))
	f := store.NewFaulty(s)
	diskFull := errors.New("disk full")
	f.FailNext("Update", 2, diskFull)

	var task apiv1.Task
	if err := f.Get(ctx, "a", &task); err != nil {
		t.Fatalf("get is not failing: %v", err)
	}
	task.Status.StoppedReason = "x"
	for i := range 2 {
		if err := f.Update(ctx, &task); !errors.Is(err, diskFull) {
			t.Fatalf("update %d: %v, want disk full", i, err)
		}
	}
	if err := f.Update(ctx, &task); err != nil {
		t.Fatalf("third update: %v", err)
	}
	f.FailNext("Get", -1, diskFull)
	f.Reset()
	if err := f.Get(ctx, "a", &task); err != nil || task.Status.StoppedReason != "x" {
		t.Errorf("get after reset: %v, reason %q", err, task.Status.StoppedReason)
	}
}
