package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Many writers changing one object at once all succeed, and every change
// is kept: none reads a version another is about to replace.
func updateWithKeepsEveryConcurrentChange(t *testing.T, s store.Store) {
	const writers = 50
	ctx := context.Background()
	task := NewTask("a")
	MustCreate(t, s, task)
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			var obj apiv1.Task
			obj.Name = "a"
			errs[i] = s.UpdateWith(ctx, &obj, func() error {
				if obj.Annotations == nil {
					obj.Annotations = map[string]string{}
				}
				obj.Annotations["writer"+strconv.Itoa(i)] = "here"
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	var got apiv1.Task
	if err := s.Get(ctx, "a", &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Annotations) != writers {
		t.Errorf("%d of %d changes kept", len(got.Annotations), writers)
	}
	if d := resourceVersion(t, &got) - resourceVersion(t, task); d != writers {
		t.Errorf("resourceVersion advanced by %d, want one per writer (%d)", d, writers)
	}
}

// The change's error comes back as it is, with nothing written; a missing
// object is ErrNotFound; a change that changes nothing writes nothing; and
// the store-owned metadata keeps its stored values whatever the change does.
func updateWithErrorsAndNoOps(t *testing.T, s store.Store) {
	ctx := context.Background()
	task := NewTask("a")
	MustCreate(t, s, task)
	rv := task.ResourceVersion

	ghost := NewTask("ghost")
	if err := s.UpdateWith(ctx, ghost, func() error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateWith of a missing object: %v, want ErrNotFound", err)
	}

	boom := errors.New("boom")
	var obj apiv1.Task
	obj.Name = "a"
	err := s.UpdateWith(ctx, &obj, func() error {
		obj.Spec.Family = "changed"
		return boom
	})
	if err != boom {
		t.Errorf("UpdateWith whose change fails: %v, want the change's error as it is", err)
	}
	if err := s.UpdateWith(ctx, &obj, func() error { return nil }); err != nil || obj.ResourceVersion != rv {
		t.Errorf("unchanged UpdateWith: %v, resourceVersion %s, want nil and %s", err, obj.ResourceVersion, rv)
	}
	var got apiv1.Task
	if err := s.Get(ctx, "a", &got); err != nil || got.ResourceVersion != rv || got.Spec.Family != "web" {
		t.Errorf("stored after a failed and an unchanged UpdateWith: rv %s family %q (err %v), want %s web", got.ResourceVersion, got.Spec.Family, err, rv)
	}

	if err := s.UpdateWith(ctx, &obj, func() error {
		obj.ResourceVersion, obj.UID = "1", "forged"
		obj.Status.StoppedReason = "mine"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Get(ctx, "a", &got); err != nil {
		t.Fatal(err)
	}
	if got.UID != task.UID || got.ResourceVersion != obj.ResourceVersion || resourceVersion(t, &got) <= resourceVersion(t, task) || got.Status.StoppedReason != "mine" {
		t.Errorf("stored uid %q rv %s reason %q, obj rv %s; want uid %q, a new rv in obj too, reason mine", got.UID, got.ResourceVersion, got.Status.StoppedReason, obj.ResourceVersion, task.UID)
	}
}
