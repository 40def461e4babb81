// Package events records what happened to the agent's objects, and why, as
// Event objects in the store: the "Events" section of `ecs-agent describe`.
//
// Recording never blocks a reconciler: Eventf puts the event on a bounded
// queue that Run drains into the store, and drops (and counts) events when
// the queue is full. Identical consecutive events for an object fold into one
// with a count, and at most MaxPerObject events are kept per object, the
// oldest going first, so the store stays small however long a task flaps.
package events

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr"

	"github.com/ecs-agent/ecs-agent/internal/store"
)

const (
	// MaxPerObject is how many events are kept per object.
	MaxPerObject = 30
	// QueueSize is how many events may wait for Run before Eventf drops them.
	QueueSize = 1024
	// MaxMessageLen bounds a message; longer ones are cut (Docker errors
	// can quote whole responses).
	MaxMessageLen = 1024

	// flushTimeout bounds the last write of queued events when Run stops.
	flushTimeout = time.Second
)

// Recorder records events on objects. It is safe for concurrent use; Run
// must be running for events to reach the store.
type Recorder struct {
	store store.Store
	log   logr.Logger
	now   func() time.Time
	max   int

	mu      sync.Mutex
	queue   []op
	wake    chan struct{} // capacity 1: "the queue is not empty"
	dropped atomic.Uint64

	// Owned by Run's goroutine.
	objects  map[objectKey]*history
	lastNano int64
}

// op is one queued request: an event to record, or an object to forget.
type op struct {
	forget               bool
	key                  objectKey
	typ, reason, message string
	at                   time.Time
}

type objectKey struct{ kind, name string }

// NewRecorder returns a Recorder writing to s. Call Run to start writing.
func NewRecorder(s store.Store, log logr.Logger) *Recorder {
	return &Recorder{
		store:   s,
		log:     log,
		now:     time.Now,
		max:     MaxPerObject,
		wake:    make(chan struct{}, 1),
		objects: make(map[objectKey]*history),
	}
}

// Eventf records an event of eventType (apiv1.EventNormal or EventWarning)
// about obj. The message is stored and shown by `ecs-agent describe`: it must
// never carry secret values or credentials, which is the caller's duty.
// Eventf never blocks; when the queue is full the event is dropped and
// counted (Dropped and the ecs_agent_events_dropped_total metric).
func (r *Recorder) Eventf(obj store.Object, eventType, reason, format string, args ...any) {
	if obj == nil || obj.GetName() == "" {
		return
	}
	o := op{
		key:     objectKey{kind: store.KindOf(obj), name: obj.GetName()},
		typ:     eventType,
		reason:  reason,
		message: truncate(fmt.Sprintf(format, args...), MaxMessageLen),
		at:      r.now(),
	}
	if !r.enqueue(o, false) {
		r.dropped.Add(1)
		droppedTotal.Inc()
	}
}

// Forget removes every event of the named object, once the events queued
// before it are written. The task reconciler calls it when it deletes a
// task, so events do not outlive their object. Forget never blocks and is
// never dropped.
func (r *Recorder) Forget(kind, name string) {
	r.enqueue(op{forget: true, key: objectKey{kind: kind, name: name}}, true)
}

// Dropped is how many events Eventf dropped because the queue was full.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

func (r *Recorder) enqueue(o op, always bool) bool {
	r.mu.Lock()
	if !always && len(r.queue) >= QueueSize {
		r.mu.Unlock()
		return false
	}
	r.queue = append(r.queue, o)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default: // already signalled
	}
	return true
}

// take empties the queue.
func (r *Recorder) take() []op {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queue
	r.queue = nil
	return q
}

// Run writes queued events to the store until ctx ends, then writes what is
// still queued (for at most a second) and returns. It first reads the events
// already stored, so counts, bounds and names carry on across restarts, and
// removes the events of objects that no longer exist.
func (r *Recorder) Run(ctx context.Context) {
	if err := r.load(ctx); err != nil && ctx.Err() == nil {
		// Not fatal: new events are still recorded; only the bound on
		// events from before the restart is lost.
		r.log.Error(err, "read stored events; old events are kept as they are")
	}
	for {
		select {
		case <-ctx.Done():
			flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
			r.drain(flush)
			cancel()
			return
		case <-r.wake:
			r.drain(ctx)
		}
	}
}

func (r *Recorder) drain(ctx context.Context) {
	for _, o := range r.take() {
		var err error
		if o.forget {
			err = r.forget(ctx, o.key)
		} else {
			err = r.record(ctx, o)
		}
		if err != nil {
			writeErrorsTotal.Inc()
			if errors.Is(err, store.ErrClosed) || ctx.Err() != nil {
				r.log.V(1).Info("event not written", "error", err.Error())
				continue
			}
			r.log.Error(err, "write event", "kind", o.key.kind, "name", o.key.name, "reason", o.reason)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
