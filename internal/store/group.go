package store

import (
	"fmt"
	"sync"

	"go.etcd.io/bbolt"
)

// groupCommit shares fsyncs between writers without making any of them
// wait for company. A writer that finds no commit in flight commits at
// once, alone. Writers that arrive while one is in flight queue up, and
// when it ends the first of them commits everything queued in one
// transaction: under load many writes share one fsync, as with bbolt's
// Batch, but nobody waits for a timer (Batch's MaxBatchDelay), which a
// lone task start paid on every write that met another one.
type groupCommit struct {
	mu    sync.Mutex
	busy  bool // a commit is in flight, or about to start
	queue []*queuedWrite
}

type queuedWrite struct {
	fn func(*bbolt.Tx) error
	// done receives the write's outcome, or lead: it is this writer's
	// turn to commit the queue.
	done chan writeOutcome
}

type writeOutcome struct {
	err   error
	panic any // fn panicked: the panic goes on in the writer's goroutine
	lead  bool
}

// groupWrite commits fn through the group commit. As with bbolt's Batch,
// fn may run more than once: when another write of its group fails, the
// group is rolled back and committed again without it.
func (b *Bolt) groupWrite(fn func(*bbolt.Tx) error) error {
	g := &b.group
	w := &queuedWrite{fn: fn, done: make(chan writeOutcome, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !lead {
		if out := <-w.done; !out.lead {
			return out.result()
		}
	}
	g.mu.Lock()
	group := g.queue
	g.queue = nil
	g.mu.Unlock()
	b.commitGroup(group) // w is in it
	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].done <- writeOutcome{lead: true}
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	return (<-w.done).result()
}

func (o writeOutcome) result() error {
	if o.panic != nil {
		panic(o.panic)
	}
	return o.err
}

// commitGroup commits the writes in one transaction and tells each its
// outcome. A write whose fn fails aborts the transaction: it runs again
// alone, which gives it its own outcome, and the others are committed
// again together without it.
func (b *Bolt) commitGroup(group []*queuedWrite) {
	for len(group) > 0 {
		failed := -1
		err := b.db.Update(func(tx *bbolt.Tx) error {
			for i, w := range group {
				if err := safelyCall(w.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, w := range group {
				w.done <- writeOutcome{err: err}
			}
			return
		}
		bad := group[failed]
		var out writeOutcome
		out.err = b.db.Update(func(tx *bbolt.Tx) error { return safelyCall(bad.fn, tx) })
		if p, ok := out.err.(panicked); ok {
			out = writeOutcome{panic: p.value}
		}
		bad.done <- out
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}

// panicked carries a panic of a write's fn out of the transaction, so that
// the writers committing with it are not left waiting.
type panicked struct{ value any }

func (p panicked) Error() string { return fmt.Sprintf("panic: %v", p.value) }

func safelyCall(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panicked{p}
		}
	}()
	return fn(tx)
}
