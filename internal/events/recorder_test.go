package events

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

func openStore(t *testing.T, path string) *store.Bolt {
	t.Helper()
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newTask(t *testing.T, s store.Store, name string) *apiv1.Task {
	t.Helper()
	task := &apiv1.Task{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := s.Create(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	return task
}

// startRecorder runs a recorder with a clock that ticks a millisecond per
// event, and stops it at the end of the test.
func startRecorder(t *testing.T, s store.Store) *Recorder {
	t.Helper()
	r := NewRecorder(s, testr.New(t))
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r.now = func() time.Time { clock = clock.Add(time.Millisecond); return clock }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

func stopRecorder(t *testing.T, r *Recorder, cancel context.CancelFunc, done chan struct{}) {
	t.Helper()
	cancel()
	<-done
}

// eventsOf waits until the object's stored events satisfy ok, and returns them.
func eventsOf(t *testing.T, s store.Store, name string, ok func([]apiv1.Event) bool) []apiv1.Event {
	t.Helper()
	var mine []apiv1.Event
	testwait.For(t, "the events of "+name, 5*time.Second, 5*time.Millisecond, func() (bool, string) {
		var list apiv1.EventList
		if err := s.List(context.Background(), &list); err != nil {
			t.Fatal(err)
		}
		mine = nil
		for _, ev := range list.Items {
			if ev.InvolvedName == name {
				mine = append(mine, ev)
			}
		}
		Sort(mine)
		return ok(mine), fmt.Sprintf("%+v", mine)
	})
	return mine
}

func lenIs(n int) func([]apiv1.Event) bool {
	return func(evs []apiv1.Event) bool { return len(evs) == n }
}

func TestEventfRecordsEventAboutObject(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "agent.db"))
	task := newTask(t, s, "0123456789abcdef0123456789abcdef")
	r := startRecorder(t, s)

	r.Eventf(task, apiv1.EventWarning, "ContainerFailed", "container %s: %s", "web", "image not found")

	ev := eventsOf(t, s, task.Name, lenIs(1))[0]
	if ev.InvolvedKind != "Task" || ev.Type != apiv1.EventWarning || ev.Reason != "ContainerFailed" ||
		ev.Message != "container web: image not found" || ev.Count != 1 {
		t.Errorf("event = %+v", ev)
	}
	if ev.Kind != "Event" || ev.APIVersion != "agent.ecs.local/v1" {
		t.Errorf("event type meta = %q %q", ev.APIVersion, ev.Kind)
	}
}

func TestIdenticalConsecutiveEventsFoldIntoOneWithCount(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "agent.db"))
	task := newTask(t, s, "t1")
	r := startRecorder(t, s)

	for range 3 {
		r.Eventf(task, apiv1.EventNormal, "Health", "container web is UNHEALTHY")
	}
	r.Eventf(task, apiv1.EventNormal, "Health", "container web is HEALTHY")
	r.Eventf(task, apiv1.EventNormal, "Health", "container web is UNHEALTHY")

	evs := eventsOf(t, s, "t1", lenIs(3))
	wantCounts := []int32{3, 1, 1}
	for i, ev := range evs {
		if ev.Count != wantCounts[i] {
			t.Errorf("event %d (%s) count = %d, want %d", i, ev.Message, ev.Count, wantCounts[i])
		}
	}
	if !evs[0].LastTimestamp.After(evs[0].FirstTimestamp.Time) {
		t.Errorf("folded event's last timestamp %v is not after its first %v", evs[0].LastTimestamp, evs[0].FirstTimestamp)
	}
}

func TestKeepsBoundedEventsPerObjectDroppingOldest(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "agent.db"))
	task := newTask(t, s, "t1")
	r := startRecorder(t, s)

	for i := range MaxPerObject + 5 {
		r.Eventf(task, apiv1.EventNormal, "Step", "step %d", i)
	}

	evs := eventsOf(t, s, "t1", func(evs []apiv1.Event) bool {
		return len(evs) == MaxPerObject && evs[len(evs)-1].Message == fmt.Sprintf("step %d", MaxPerObject+4)
	})
	if evs[0].Message != "step 5" {
		t.Errorf("oldest kept event = %q, want step 5", evs[0].Message)
	}
}

func TestForgetRemovesOnlyThatObjectsEvents(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "agent.db"))
	gone, kept := newTask(t, s, "gone"), newTask(t, s, "kept")
	r := startRecorder(t, s)

	r.Eventf(gone, apiv1.EventNormal, "Started", "started")
	r.Eventf(kept, apiv1.EventNormal, "Started", "started")
	r.Forget("Task", "gone")
	r.Eventf(kept, apiv1.EventNormal, "Stopped", "stopped")

	eventsOf(t, s, "kept", lenIs(2))
	eventsOf(t, s, "gone", lenIs(0))
}

func TestEventfNeverBlocksAndCountsDrops(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "agent.db"))
	task := newTask(t, s, "t1")
	r := NewRecorder(s, testr.New(t)) // not running: nothing drains the queue

	// Nothing drains the queue: an Eventf that waited for room would never
	// return.
	for i := range QueueSize + 10 {
		r.Eventf(task, apiv1.EventNormal, "Step", "step %d", i)
	}
	if got := r.Dropped(); got != 10 {
		t.Errorf("Dropped() = %d, want 10", got)
	}
}

func TestRestartCarriesOnCountsAndRemovesEventsOfGoneObjects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	s := openStore(t, path)
	task := newTask(t, s, "alive")
	dead := &apiv1.Task{ObjectMeta: metav1.ObjectMeta{Name: "dead"}} // never stored

	first := NewRecorder(s, testr.New(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { first.Run(ctx); close(done) }()
	first.Eventf(task, apiv1.EventWarning, "Unhealthy", "container web is UNHEALTHY")
	first.Eventf(dead, apiv1.EventNormal, "Started", "started")
	eventsOf(t, s, "alive", lenIs(1))
	eventsOf(t, s, "dead", lenIs(1))
	stopRecorder(t, first, cancel, done)

	second := startRecorder(t, s)
	second.Eventf(task, apiv1.EventWarning, "Unhealthy", "container web is UNHEALTHY")
	eventsOf(t, s, "alive", func(evs []apiv1.Event) bool { return len(evs) == 1 && evs[0].Count == 2 })
	eventsOf(t, s, "dead", lenIs(0))
}

func TestLongMessagesAreCut(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "agent.db"))
	task := newTask(t, s, "t1")
	r := startRecorder(t, s)
	long := make([]byte, 3*MaxMessageLen)
	for i := range long {
		long[i] = 'x'
	}
	r.Eventf(task, apiv1.EventWarning, "PullFailed", "%s", long)
	ev := eventsOf(t, s, "t1", lenIs(1))[0]
	if len(ev.Message) > MaxMessageLen+len("…") {
		t.Errorf("message length %d exceeds %d", len(ev.Message), MaxMessageLen)
	}
}
