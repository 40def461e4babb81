package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// DefaultStuckAfter is how long one reconcile may run before the set counts
// as unhealthy, unless Set.StuckAfter says otherwise for its controller.
// Every Docker call is bounded well below it (dockerstate's call timeouts),
// and a reconcile waits for time with RequeueAfter, never in place, so a
// reconcile this old is blocked for good: a deadlock or a call that ignores
// its context. Only a restart frees its worker.
const DefaultStuckAfter = 10 * time.Minute

// health records the reconciles in flight, to tell a working set from one
// whose workers hang.
type health struct {
	mu    sync.Mutex
	next  uint64
	calls map[uint64]call
}

// call is one reconcile in flight.
type call struct {
	controller, object string
	start              time.Time
}

// begin records a reconcile's start and returns the function that records
// its end.
func (h *health) begin(controller, object string) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.calls == nil {
		h.calls = map[uint64]call{}
	}
	id := h.next
	h.next++
	h.calls[id] = call{controller: controller, object: object, start: time.Now()}
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.calls, id)
	}
}

// stuck returns the reconciles in flight for longer than their
// controller's limit, oldest first.
func (h *health) stuck(limit func(controller string) time.Duration) []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var oldest []call
	for _, c := range h.calls {
		if time.Since(c.start) > limit(c.controller) {
			oldest = append(oldest, c)
		}
	}
	slices.SortFunc(oldest, func(a, b call) int { return a.start.Compare(b.start) })
	var errs []error
	for _, c := range oldest {
		errs = append(errs, fmt.Errorf("%s controller has been reconciling %s for %s (limit %s)",
			c.controller, c.object, time.Since(c.start).Round(time.Second), limit(c.controller)))
	}
	return errs
}

// tracked is a reconciler whose calls the set's health records.
type tracked struct {
	name   string
	r      reconcile.Reconciler
	health *health
}

func (t tracked) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	defer t.health.begin(t.name, req.Name)()
	return t.r.Reconcile(ctx, req)
}

// Healthy reports why the set is not working (nil when it is): it has not
// started, or some reconcile has been running for longer than its
// controller may take (StuckAfter). A slow Docker daemon or a long pull is
// not ill health; a worker that never comes back is. The agent's systemd
// watchdog pings only while this is nil.
func (s *Set) Healthy() error {
	if !s.Started() {
		return errors.New("controllers not running")
	}
	return errors.Join(s.health.stuck(s.stuckAfter)...)
}

func (s *Set) stuckAfter(controller string) time.Duration {
	if d, ok := s.StuckAfter[controller]; ok && d > 0 {
		return d
	}
	return DefaultStuckAfter
}
