// Package store keeps the agent's objects (api/v1) durably in a bbolt file.
//
// Every object is stored as JSON under its kind's bucket, keyed by name, with
// a resource version taken from one counter for the whole file. Writes check
// the resource version the caller read (optimistic concurrency), or read,
// change and write in one transaction (UpdateWith, Mutate), and every write
// that returned nil has been fsynced: it survives kill -9.
package store

import (
	"context"
	"errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Object is what the store holds: any api/v1 root object.
type Object interface {
	metav1.Object
	runtime.Object
}

// ObjectList is an api/v1 list type (TaskList, ImageList, …).
type ObjectList interface {
	metav1.ListInterface
	runtime.Object
}

// Errors the store returns; check them with errors.Is.
var (
	ErrNotFound      = errors.New("object not found")
	ErrAlreadyExists = errors.New("object already exists")
	// ErrConflict means the object changed since the caller read it: read it
	// again and retry.
	ErrConflict = errors.New("object was modified since it was read")
	ErrClosed   = errors.New("store is closed")
	// ErrLocked means another process (normally the running agent) holds
	// the store file's lock, so it cannot be opened.
	ErrLocked = errors.New("store file is locked")
	// ErrReadOnly is returned by writes to a store opened read-only.
	ErrReadOnly = errors.New("store is open read-only")
)

// EventType says what happened to an object.
type EventType string

// Watch event types.
const (
	Added    EventType = "ADDED"
	Modified EventType = "MODIFIED"
	Deleted  EventType = "DELETED"
)

// Event tells a watcher that an object changed. Object is the object after
// the change (before it, for Deleted); the watcher must not modify it.
type Event struct {
	Type   EventType
	Kind   string
	Name   string
	Object Object
}

// Store is the object store. Kinds are the Go type names of api/v1 root
// objects ("Task", "Image", "PortAllocation", …), derived from the value
// passed in.
type Store interface {
	// Get reads the named object into obj.
	Get(ctx context.Context, name string, obj Object) error
	// List reads every object of the list's kind into list.
	List(ctx context.Context, list ObjectList) error
	// Create stores a new object, setting its resource version and creation
	// timestamp. ErrAlreadyExists if the name is taken.
	Create(ctx context.Context, obj Object) error
	// Update replaces an object whose resource version is still obj's,
	// setting the new one into obj. ErrConflict otherwise; ErrNotFound if it
	// is gone. An update that changes nothing writes nothing.
	Update(ctx context.Context, obj Object) error
	// UpdateStatus replaces only the stored object's status with obj's,
	// whatever its resource version, keeping the stored spec and metadata,
	// and reads the result back into obj. It is for the status's one
	// writer (named in each type's doc comment): that writer never
	// conflicts with the writers of the spec, and the change it missed
	// requeues it through the watch. ErrNotFound if the object is gone; an
	// unchanged status writes nothing.
	UpdateStatus(ctx context.Context, obj Object) error
	// UpdateWith reads the object named obj's name into obj, calls change
	// (which changes obj) and stores the result, in one write
	// transaction: no other write comes between the read and the write,
	// so it never conflicts, however many writers change the object at
	// once. change may run more than once, each time on a fresh read; it
	// runs inside the transaction, so it must only change obj, must not
	// call the store and should be quick. Its error stops UpdateWith with
	// nothing written and is returned as it is. ErrNotFound if there is no
	// such object; a change that changes nothing writes nothing. The
	// store-owned metadata (resource version, UID, creation time) keeps
	// the stored values whatever change does; after a nil error obj is the
	// object as stored.
	UpdateWith(ctx context.Context, obj Object, change func() error) error
	// Delete removes the object; if obj carries a resource version it must
	// still be current (ErrConflict otherwise).
	Delete(ctx context.Context, obj Object) error
	// Watch calls fn after every committed change to objects of kind (every
	// kind when kind is ""), in commit order, until cancel is called. fn runs
	// on a writer's goroutine (not necessarily the one that made the change)
	// with deliveries to every watcher serialised: it must not block or call
	// the store; hand the event to a queue or a buffered channel instead.
	Watch(kind string, fn func(Event)) (cancel func())
	// Close releases the file.
	Close() error
}
