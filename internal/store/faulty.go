package store

import (
	"context"
	"fmt"
	"sync"
)

// Faulty wraps a Store and fails chosen calls, for tests of the code that
// uses the store (a reconciler that must retry after a failed status write,
// say). Calls that are not set to fail go to the inner store.
type Faulty struct {
	inner Store

	mu     sync.Mutex
	faults map[string]*fault
	calls  map[string]int
}

type fault struct {
	left int // calls still to fail; negative fails every call
	err  error
}

var _ Store = (*Faulty)(nil)

// faultyOps are the operations FailNext accepts.
var faultyOps = map[string]bool{"Get": true, "List": true, "Create": true, "Update": true, "UpdateStatus": true, "UpdateWith": true, "Delete": true}

// NewFaulty wraps inner; until told otherwise it passes every call through.
func NewFaulty(inner Store) *Faulty {
	return &Faulty{inner: inner, faults: map[string]*fault{}, calls: map[string]int{}}
}

// FailNext makes the next n calls of op ("Get", "List", "Create", "Update",
// "UpdateStatus", "UpdateWith" or "Delete") return err without reaching the inner store; a negative n
// fails every call until Reset. It panics on an unknown op, which is a bug
// in the test.
func (f *Faulty) FailNext(op string, n int, err error) {
	if !faultyOps[op] {
		panic(fmt.Sprintf("store.Faulty: unknown op %q", op))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = &fault{left: n, err: err}
}

// Reset stops every injected failure.
func (f *Faulty) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = map[string]*fault{}
}

// Calls reports how many times op was called, failed or not.
func (f *Faulty) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// injected returns the error op must fail with now, if any.
func (f *Faulty) injected(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	ft := f.faults[op]
	if ft == nil || ft.left == 0 {
		return nil
	}
	if ft.left > 0 {
		ft.left--
	}
	return ft.err
}

// Get fails if told to, else reads from the inner store.
func (f *Faulty) Get(ctx context.Context, name string, obj Object) error {
	if err := f.injected("Get"); err != nil {
		return err
	}
	return f.inner.Get(ctx, name, obj)
}

// List fails if told to, else lists from the inner store.
func (f *Faulty) List(ctx context.Context, list ObjectList) error {
	if err := f.injected("List"); err != nil {
		return err
	}
	return f.inner.List(ctx, list)
}

// Create fails if told to, else creates in the inner store.
func (f *Faulty) Create(ctx context.Context, obj Object) error {
	if err := f.injected("Create"); err != nil {
		return err
	}
	return f.inner.Create(ctx, obj)
}

// Update fails if told to, else updates the inner store.
func (f *Faulty) Update(ctx context.Context, obj Object) error {
	if err := f.injected("Update"); err != nil {
		return err
	}
	return f.inner.Update(ctx, obj)
}

// UpdateStatus fails if told to, else updates the inner store's status.
func (f *Faulty) UpdateStatus(ctx context.Context, obj Object) error {
	if err := f.injected("UpdateStatus"); err != nil {
		return err
	}
	return f.inner.UpdateStatus(ctx, obj)
}

// UpdateWith fails if told to, else changes the object in the inner store.
func (f *Faulty) UpdateWith(ctx context.Context, obj Object, change func() error) error {
	if err := f.injected("UpdateWith"); err != nil {
		return err
	}
	return f.inner.UpdateWith(ctx, obj, change)
}

// Delete fails if told to, else deletes from the inner store.
func (f *Faulty) Delete(ctx context.Context, obj Object) error {
	if err := f.injected("Delete"); err != nil {
		return err
	}
	return f.inner.Delete(ctx, obj)
}

// Watch watches the inner store; it never fails.
func (f *Faulty) Watch(kind string, fn func(Event)) (cancel func()) {
	return f.inner.Watch(kind, fn)
}

// Close closes the inner store.
func (f *Faulty) Close() error { return f.inner.Close() }
