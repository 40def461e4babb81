package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestWatchDeliversEveryCommitInOrderUnderConcurrentWriters(t *testing.T) {
	for _, mode := range []string{"hybrid", "solo", "batch"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			s, _ := openTemp(t)
			store.SetWriteMode(s, mode)
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
					obj := newTask("w" + strconv.Itoa(w))
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
				rv := atoi(t, e.Object.GetResourceVersion())
				if i > 0 && rv != atoi(t, got[i-1].Object.GetResourceVersion())+1 {
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
		})
	}
}

func TestWatchFiltersByKindAndStopsOnCancel(t *testing.T) {
	s, _ := openTemp(t)
	var images, all int
	cancelAll := s.Watch("", func(store.Event) { all++ })
	defer cancelAll()
	cancel := s.Watch("Image", func(store.Event) { images++ })

	// With one writer, delivery happens before the write returns.
	mustCreate(t, s, newTask("a"))
	mustCreate(t, s, &apiv1.Image{ObjectMeta: metav1.ObjectMeta{Name: "i1"}})
	cancel()
	cancel() // twice is fine
	mustCreate(t, s, &apiv1.Image{ObjectMeta: metav1.ObjectMeta{Name: "i2"}})
	if images != 1 || all != 3 {
		t.Errorf("image watcher saw %d events (want 1), all-kinds watcher %d (want 3)", images, all)
	}
}

func TestWatcherMayCancelItselfWhileBeingCalled(t *testing.T) {
	s, _ := openTemp(t)
	calls := 0
	var cancel func()
	cancel = s.Watch("", func(store.Event) {
		calls++
		cancel()
	})
	mustCreate(t, s, newTask("a"))
	mustCreate(t, s, newTask("b"))
	if calls != 1 {
		t.Errorf("watcher called %d times, want 1", calls)
	}
}

func TestDeleteEventCarriesTheObjectAsItWas(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	obj := newTask("a")
	mustCreate(t, s, obj)
	var ev store.Event
	defer s.Watch("Task", func(e store.Event) { ev = e })()
	if err := s.Delete(ctx, newTask("a")); err != nil {
		t.Fatal(err)
	}
	old, ok := ev.Object.(*apiv1.Task)
	if ev.Type != store.Deleted || !ok || old.Spec.Family != "web" || old.UID != obj.UID {
		t.Fatalf("delete event = %s %+v", ev.Type, ev.Object)
	}
	if atoi(t, old.ResourceVersion) <= atoi(t, obj.ResourceVersion) {
		t.Errorf("deleted object's resourceVersion %s not after %s", old.ResourceVersion, obj.ResourceVersion)
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
			errs[i] = s.Create(ctx, newTask(name))
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
