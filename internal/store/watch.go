package store

import (
	"sync"
	"sync/atomic"
)

// Watch calls fn after every committed change to objects of kind (every
// kind when kind is ""), in resource-version order, which is commit order.
//
// fn runs on whichever writer's goroutine delivers the event, after bbolt's
// transaction has closed, one event at a time across all watchers: it must
// not block and must not call the store (hand the event to a work queue or
// a buffered channel). It must not modify ev.Object, which other watchers
// share. cancel may be called from anywhere, fn included; an event being
// delivered while cancel runs may still reach fn once. After Close, Watch
// returns a no-op cancel and no more events arrive.
func (b *Bolt) Watch(kind string, fn func(Event)) (cancel func()) {
	b.gate.RLock()
	defer b.gate.RUnlock()
	if b.closed {
		return func() {}
	}
	return b.watch.add(kind, fn)
}

// watchHub puts events back into resource-version order and hands them to
// watchers. Commit handlers run after bbolt releases its writer lock, so two
// commits' handlers can race; but every committed version is published
// exactly once and versions have no gaps (bolt.go), so holding back an
// early arrival until its predecessors come restores commit order.
type watchHub struct {
	mu      sync.Mutex // serialises delivery; guards next and pending
	next    uint64     // the resource version to deliver next
	pending map[uint64]Event

	regMu    sync.Mutex                 // serialises changes to watchers
	watchers atomic.Pointer[[]*watcher] // copy-on-write, read without locks
}

type watcher struct {
	kind    string
	fn      func(Event)
	stopped atomic.Bool
}

// publish hands over the event of resource version rv.
func (h *watchHub) publish(rv uint64, ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rv != h.next {
		if h.pending == nil {
			h.pending = make(map[uint64]Event)
		}
		h.pending[rv] = ev
		return
	}
	h.deliver(ev)
	h.next++
	for {
		ev, ok := h.pending[h.next]
		if !ok {
			return
		}
		delete(h.pending, h.next)
		h.deliver(ev)
		h.next++
	}
}

func (h *watchHub) deliver(ev Event) {
	ws := h.watchers.Load()
	if ws == nil {
		return
	}
	for _, w := range *ws {
		if w.stopped.Load() || (w.kind != "" && w.kind != ev.Kind) {
			continue
		}
		w.fn(ev)
	}
}

func (h *watchHub) add(kind string, fn func(Event)) (cancel func()) {
	w := &watcher{kind: kind, fn: fn}
	h.update(func(ws []*watcher) []*watcher { return append(ws, w) })
	var once sync.Once
	return func() {
		once.Do(func() {
			w.stopped.Store(true)
			h.update(func(ws []*watcher) []*watcher {
				out := make([]*watcher, 0, len(ws))
				for _, x := range ws {
					if x != w {
						out = append(out, x)
					}
				}
				return out
			})
		})
	}
}

// clear drops every watcher (on Close).
func (h *watchHub) clear() {
	h.update(func(ws []*watcher) []*watcher {
		for _, w := range ws {
			w.stopped.Store(true)
		}
		return nil
	})
}

func (h *watchHub) update(change func([]*watcher) []*watcher) {
	h.regMu.Lock()
	defer h.regMu.Unlock()
	var cur []*watcher
	if p := h.watchers.Load(); p != nil {
		cur = append(cur, *p...) // never modify the published slice
	}
	next := change(cur)
	h.watchers.Store(&next)
}
