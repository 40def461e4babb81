package storetest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

func watchInCommitOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	var got []store.Event // deliveries are serialised: no lock needed until the end
	var mu sync.Mutex
	defer s.Watch("Task", func(e store.Event) {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	})()

	const writers, rounds = 20, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			obj := NewTask("w" + strconv.Itoa(w))
			if err := s.Create(ctx, obj); err != nil {
				errs <- err
				return
			}
			for r := range rounds {
				obj.Status.StoppedReason = fmt.Sprint("round ", r)
				if err := s.Update(ctx, obj); err != nil {
					errs <- err
					return
				}
			}
			if err := s.Delete(ctx, obj); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if want := writers * (rounds + 2); len(got) != want {
		t.Fatalf("got %d events, want %d", len(got), want)
	}
	seen := map[string]int{}
	for i, e := range got {
		rv := resourceVersion(t, e.Object)
		if i > 0 && rv != resourceVersion(t, got[i-1].Object)+1 {
			t.Fatalf("event %d has resourceVersion %d after %s: not in commit order", i, rv, got[i-1].Object.GetResourceVersion())
		}
		n := seen[e.Name]
		seen[e.Name]++
		wantType, wantReason := store.Modified, fmt.Sprint("round ", n-1)
		switch n {
		case 0:
			wantType, wantReason = store.Added, ""
		case rounds + 1:
			wantType, wantReason = store.Deleted, fmt.Sprint("round ", rounds-1)
		}
		if reason := e.Object.(*apiv1.Task).Status.StoppedReason; e.Type != wantType || reason != wantReason {
			t.Fatalf("event %d of %s = %s %q, want %s %q", n, e.Name, e.Type, reason, wantType, wantReason)
		}
	}
}

func watchFiltersByKind(t *testing.T, s store.Store) {
	var images, all int
	cancelAll := s.Watch("", func(store.Event) { all++ })
	defer cancelAll()
	cancel := s.Watch("Image", func(store.Event) { images++ })

	// With one writer, delivery happens before the write returns.
	MustCreate(t, s, NewTask("a"))
	MustCreate(t, s, &apiv1.Image{ObjectMeta: metav1.ObjectMeta{Name: "i1"}})
	cancel()
	cancel() // twice is fine
	MustCreate(t, s, &apiv1.Image{ObjectMeta: metav1.ObjectMeta{Name: "i2"}})
	if images != 1 || all != 3 {
		t.Errorf("image watcher saw %d events (want 1), all-kinds watcher %d (want 3)", images, all)
	}
}

func watcherCancelsItself(t *testing.T, s store.Store) {
	calls := 0
	var cancel func()
	cancel = s.Watch("", func(store.Event) {
		calls++
		cancel()
	})
	MustCreate(t, s, NewTask("a"))
	MustCreate(t, s, NewTask("b"))
	if calls != 1 {
		t.Errorf("watcher called %d times, want 1", calls)
	}
}

func deleteEventCarriesObject(t *testing.T, s store.Store) {
	ctx := context.Background()
	obj := NewTask("a")
	MustCreate(t, s, obj)
	var ev store.Event
	defer s.Watch("Task", func(e store.Event) { ev = e })()
	if err := s.Delete(ctx, NewTask("a")); err != nil {
		t.Fatal(err)
	}
	old, ok := ev.Object.(*apiv1.Task)
	if ev.Type != store.Deleted || !ok || old.Spec.Family != "web" || old.UID != obj.UID {
		t.Fatalf("delete event = %s %+v", ev.Type, ev.Object)
	}
	if resourceVersion(t, old) <= resourceVersion(t, obj) {
		t.Errorf("deleted object's resourceVersion %s not after %s", old.ResourceVersion, obj.ResourceVersion)
	}
}
