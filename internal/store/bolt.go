package store

// Bucket layout of the bbolt file (schema version 1):
//
//	meta                        bucket of bookkeeping for the whole file
//	  "schemaVersion"           decimal ASCII, currently "1"
//	  "resourceVersion"         uint64 big-endian: the last resource version
//	                            handed out; one counter for every kind
//	<Kind>                      one bucket per kind ("Task", "Image",
//	                            "PortAllocation", …), created on first write
//	  <name>                    JSON of the object, with apiVersion, kind and
//	                            metadata.resourceVersion set
//
// Kinds are exported Go type names and so start with a capital letter; the
// lower-case "meta" can never collide with one. Every write increments the
// counter exactly once in the same transaction as the object, so committed
// resource versions have no gaps: watch delivery relies on that to restore
// commit order (see watch.go).

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

const (
	schemaVersion = 1

	metaBucket         = "meta"
	keySchemaVersion   = "schemaVersion"
	keyResourceVersion = "resourceVersion"

	// batchDelay is bbolt's MaxBatchDelay for the "batch" write mode,
	// which only tests and benchmarks use (the default group commit waits
	// for no timer). bbolt's default (10ms) is longer than an fsync here.
	batchDelay = 2 * time.Millisecond
)

// Options tune Open.
type Options struct {
	// ReadOnly opens the file with a shared lock and refuses writes
	// (ErrReadOnly): for reading a stopped agent's state.
	ReadOnly bool
	// LockTimeout bounds the wait for the file lock; zero fails at once
	// when another process holds it. Either way the error wraps ErrLocked.
	LockTimeout time.Duration
}

// writeMode chooses how writes reach bbolt; tests and benchmarks compare them.
type writeMode int

const (
	writeGroup writeMode = iota // alone: at once; with company: after the commit in flight, together
	writeSolo                   // always DB.Update: one fsync per write
	writeBatch                  // always DB.Batch
)

// Bolt is the bbolt-backed Store. It is safe for concurrent use.
type Bolt struct {
	db       *bbolt.DB
	path     string
	readOnly bool
	mode     writeMode

	// gate: operations hold it shared; Close takes it exclusively, so
	// Close waits for writes in flight and nothing runs after it.
	gate   sync.RWMutex
	closed bool

	group groupCommit
	watch watchHub
}

var _ Store = (*Bolt)(nil)

// Open opens (creating if needed, unless read-only) the store file at path.
// When another process holds the file it returns an error wrapping ErrLocked.
func Open(path string, opts Options) (*Bolt, error) {
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("open store %s: create its directory: %w", path, err)
		}
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		// bbolt treats 0 as "wait forever"; anything at or below its 50ms
		// retry step means "try once".
		timeout = time.Nanosecond
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, ReadOnly: opts.ReadOnly})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open store %s: %w: the agent (or another process) holds %s (waited %s)",
			path, ErrLocked, path, opts.LockTimeout)
	case errors.Is(err, os.ErrNotExist) && opts.ReadOnly:
		return nil, fmt.Errorf("open store %s read-only: no such file (has the agent run with this data directory?): %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.MaxBatchDelay = batchDelay
	b := &Bolt{db: db, path: path, readOnly: opts.ReadOnly}
	last, err := b.init()
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	b.watch.next = last + 1
	return b, nil
}

// init checks the schema version (writing it into a new file) and returns
// the last resource version handed out.
func (b *Bolt) init() (uint64, error) {
	var last uint64
	check := func(tx *bbolt.Tx) error {
		m := tx.Bucket([]byte(metaBucket))
		if m == nil {
			return nil // a new file, opened read-only: nothing in it
		}
		if v := m.Get([]byte(keySchemaVersion)); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil || n > schemaVersion {
				return fmt.Errorf("schema version %q is not one this agent understands (up to %d): was the file written by a newer agent?", v, schemaVersion)
			}
		}
		last = lastResourceVersion(m)
		return nil
	}
	if b.readOnly {
		return last, b.db.View(check)
	}
	return last, b.db.Update(func(tx *bbolt.Tx) error {
		m, err := tx.CreateBucketIfNotExists([]byte(metaBucket))
		if err != nil {
			return fmt.Errorf("create meta bucket: %w", err)
		}
		if m.Get([]byte(keySchemaVersion)) == nil {
			if err := m.Put([]byte(keySchemaVersion), []byte(strconv.Itoa(schemaVersion))); err != nil {
				return fmt.Errorf("write schema version: %w", err)
			}
		}
		return check(tx)
	})
}

// Path is the file the store was opened from.
func (b *Bolt) Path() string { return b.path }

// Close releases the file after writes in flight finish. It is idempotent;
// every other call after it returns ErrClosed.
func (b *Bolt) Close() error {
	b.gate.Lock()
	defer b.gate.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	b.watch.clear()
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", b.path, err)
	}
	return nil
}

// enter admits one operation; the caller must call the returned release.
func (b *Bolt) enter(ctx context.Context, write bool) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.gate.RLock()
	if b.closed {
		b.gate.RUnlock()
		return nil, ErrClosed
	}
	if write && b.readOnly {
		b.gate.RUnlock()
		return nil, ErrReadOnly
	}
	return b.gate.RUnlock, nil
}

// Get reads the named object into obj, replacing all of its contents.
func (b *Bolt) Get(ctx context.Context, name string, obj Object) error {
	kind := KindOf(obj)
	release, err := b.enter(ctx, false)
	if err != nil {
		return fmt.Errorf("get %s %s: %w", kind, name, err)
	}
	defer release()
	err = b.db.View(func(tx *bbolt.Tx) error {
		bk := tx.Bucket([]byte(kind))
		if bk == nil {
			return ErrNotFound
		}
		data := bk.Get([]byte(name))
		if data == nil {
			return ErrNotFound
		}
		return decodeInto(data, obj)
	})
	if err != nil {
		return fmt.Errorf("get %s %s: %w", kind, name, err)
	}
	setTypeMeta(obj, kind)
	return nil
}

// List reads every object of the list's kind into list, sorted by name. The
// list's resourceVersion is the store's at the time of the read.
func (b *Bolt) List(ctx context.Context, list ObjectList) error {
	kind := KindOf(list)
	release, err := b.enter(ctx, false)
	if err != nil {
		return fmt.Errorf("list %s: %w", kind, err)
	}
	defer release()
	// Build the list's JSON from the stored values and let encoding/json
	// fill Items: no per-type code. bbolt keys are sorted bytewise.
	var doc []byte
	err = b.db.View(func(tx *bbolt.Tx) error {
		var rv uint64
		if m := tx.Bucket([]byte(metaBucket)); m != nil {
			rv = lastResourceVersion(m)
		}
		doc = fmt.Appendf(doc, `{"metadata":{"resourceVersion":%q},"items":[`, strconv.FormatUint(rv, 10))
		if bk := tx.Bucket([]byte(kind)); bk != nil {
			first := true
			if err := bk.ForEach(func(_, v []byte) error {
				if !first {
					doc = append(doc, ',')
				}
				first = false
				doc = append(doc, v...)
				return nil
			}); err != nil {
				return err
			}
		}
		doc = append(doc, "]}"...)
		return nil
	})
	if err == nil {
		err = decodeInto(doc, list)
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", kind, err)
	}
	list.GetObjectKind().SetGroupVersionKind(GroupVersion.WithKind(kind + "List"))
	setItemsTypeMeta(list, kind)
	return nil
}

// decodeInto zeroes obj and decodes data into it: json.Unmarshal alone
// would keep fields that are absent from data.
func decodeInto(data []byte, obj any) error {
	v := reflect.ValueOf(obj).Elem()
	v.Set(reflect.Zero(v.Type()))
	if err := json.Unmarshal(data, obj); err != nil {
		return fmt.Errorf("decode stored JSON: %w", err)
	}
	return nil
}

func lastResourceVersion(m *bbolt.Bucket) uint64 {
	v := m.Get([]byte(keyResourceVersion))
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// nextResourceVersion takes the next resource version in tx.
func nextResourceVersion(tx *bbolt.Tx) (uint64, error) {
	m := tx.Bucket([]byte(metaBucket))
	if m == nil {
		return 0, errors.New("meta bucket missing")
	}
	rv := lastResourceVersion(m) + 1
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], rv)
	if err := m.Put([]byte(keyResourceVersion), buf[:]); err != nil {
		return 0, fmt.Errorf("write resource version: %w", err)
	}
	return rv, nil
}
