package controllers

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate/dockerfake"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

// callbackProbe is a store that notes any read made on the goroutine that
// is delivering one of its watch events.
type callbackProbe struct {
	store.Store
	mu         sync.Mutex
	delivering map[uint64]bool
	violations []string
}

func goroutineID() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(buf[:bytes.IndexByte(buf, ' ')]), 10, 64)
	return id
}

func (p *callbackProbe) Watch(kind string, fn func(store.Event)) func() {
	return p.Store.Watch(kind, func(e store.Event) {
		id := goroutineID()
		p.mu.Lock()
		p.delivering[id] = true
		p.mu.Unlock()
		fn(e)
		p.mu.Lock()
		delete(p.delivering, id)
		p.mu.Unlock()
	})
}

func (p *callbackProbe) List(ctx context.Context, l store.ObjectList) error {
	p.mu.Lock()
	if p.delivering[goroutineID()] {
		p.violations = append(p.violations, "List inside a watch callback")
	}
	p.mu.Unlock()
	return p.Store.List(ctx, l)
}

// TestTaskSourcesNeverReadTheStoreInsideAWatchCallback: a read inside the
// callback waits behind the writer that delivers it, and deadlocks against
// Close; a released port still requeues the tasks waiting for one.
func TestTaskSourcesNeverReadTheStoreInsideAWatchCallback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bolt, err := store.Open(filepath.Join(t.TempDir(), "agent.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	probe := &callbackProbe{Store: bolt, delivering: map[uint64]bool{}}
	s := &Set{Store: probe, Docker: dockerfake.New(), Log: logr.Discard()}
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	for _, src := range s.taskSources() {
		if err := src.Start(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	waiting := &apiv1.Task{Spec: apiv1.TaskSpec{Arn: "arn:aws:ecs:local:000000000000:task/test/waiting"}}
	waiting.Name = "waiting"
	if err := bolt.Create(ctx, waiting); err != nil {
		t.Fatal(err)
	}
	drain := func() map[string]bool {
		seen := map[string]bool{}
		for q.Len() > 0 {
			r, _ := q.Get()
			seen[r.Name] = true
			q.Done(r)
			q.Forget(r)
		}
		return seen
	}
	drain()
	pa := &apiv1.PortAllocation{Spec: apiv1.PortAllocationSpec{HostPort: 40000, Protocol: "tcp", Task: "other"}}
	pa.Name = apiv1.PortAllocationName("tcp", 40000)
	if err := bolt.Create(ctx, pa); err != nil {
		t.Fatal(err)
	}
	if err := bolt.Delete(ctx, pa); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	testwait.For(t, "the waiting task requeued by the released port", 10*time.Second, 10*time.Millisecond, func() (bool, string) {
		for n := range drain() {
			seen[n] = true
		}
		return seen["waiting"], fmt.Sprintf("requeued %v", seen)
	})
	probe.mu.Lock()
	defer probe.mu.Unlock()
	if len(probe.violations) > 0 {
		t.Fatalf("store read on the watch callback's goroutine: %v", probe.violations)
	}
}
