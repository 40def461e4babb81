package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"go.etcd.io/bbolt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
)

// errUnchanged is the answer of an update that would write nothing new.
var errUnchanged = errors.New("unchanged")

// Create stores a new object, setting its UID, creation timestamp and
// resource version. ErrAlreadyExists if the name is taken; obj is left as
// it was on any error.
func (b *Bolt) Create(ctx context.Context, obj Object) error {
	kind, name := KindOf(obj), obj.GetName()
	if name == "" {
		return fmt.Errorf("create %s: the object has no name", kind)
	}
	release, err := b.enter(ctx, true)
	if err != nil {
		return fmt.Errorf("create %s %s: %w", kind, name, err)
	}
	defer release()
	setTypeMeta(obj, kind)
	saved := saveMeta(obj)
	uid, created := uuid.NewUUID(), metav1.Now().Rfc3339Copy()
	err = b.commit(func(tx *bbolt.Tx) (answer, abort error) {
		bk, err := tx.CreateBucketIfNotExists([]byte(kind))
		if err != nil {
			return nil, fmt.Errorf("create bucket: %w", err)
		}
		if bk.Get([]byte(name)) != nil {
			return ErrAlreadyExists, nil
		}
		rv, err := nextResourceVersion(tx)
		if err != nil {
			return nil, err
		}
		obj.SetUID(uid)
		obj.SetCreationTimestamp(created)
		obj.SetResourceVersion(formatRV(rv))
		if err := put(bk, name, obj); err != nil {
			return nil, err
		}
		b.publishOnCommit(tx, rv, Added, kind, obj)
		return nil, nil
	})
	if err != nil {
		saved.restore(obj)
		return fmt.Errorf("create %s %s: %w", kind, name, err)
	}
	return nil
}

// Update replaces a stored object. A non-empty resource version in obj
// must still be the stored one (ErrConflict otherwise); an empty one
// updates unconditionally. UID and creation timestamp always keep their
// stored values. When the object's JSON would not change, nothing is
// written, no event is sent and obj's resource version is left as it was.
func (b *Bolt) Update(ctx context.Context, obj Object) error {
	kind, name := KindOf(obj), obj.GetName()
	release, err := b.enter(ctx, true)
	if err != nil {
		return fmt.Errorf("update %s %s: %w", kind, name, err)
	}
	defer release()
	setTypeMeta(obj, kind)
	saved := saveMeta(obj)
	err = b.commit(func(tx *bbolt.Tx) (answer, abort error) {
		// bbolt may run this more than once: start from the caller's obj.
		saved.restore(obj)
		bk, cur := lookup(tx, kind, name)
		if cur == nil {
			return ErrNotFound, nil
		}
		stored, err := decodeMeta(cur)
		if err != nil {
			return nil, err
		}
		if saved.rv != "" && saved.rv != stored.ResourceVersion {
			return fmt.Errorf("%w (have resourceVersion %s, stored %s)", ErrConflict, saved.rv, stored.ResourceVersion), nil
		}
		// With the store-owned fields at their stored values, equal JSON
		// means nothing but bookkeeping would change.
		obj.SetResourceVersion(stored.ResourceVersion)
		obj.SetUID(stored.UID)
		obj.SetCreationTimestamp(stored.CreationTimestamp)
		return b.replace(tx, bk, kind, obj, cur)
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errUnchanged):
		saved.restore(obj)
		return nil
	default:
		saved.restore(obj)
		return fmt.Errorf("update %s %s: %w", kind, name, err)
	}
}

// changeFailed carries UpdateWith's change error out of the transaction,
// to be returned as it is rather than as the store's.
type changeFailed struct{ err error }

func (c changeFailed) Error() string { return c.err.Error() }

// UpdateWith reads, changes and writes the object in one write
// transaction (see Store.UpdateWith).
func (b *Bolt) UpdateWith(ctx context.Context, obj Object, change func() error) error {
	kind, name := KindOf(obj), obj.GetName()
	release, err := b.enter(ctx, true)
	if err != nil {
		return fmt.Errorf("update %s %s: %w", kind, name, err)
	}
	defer release()
	err = b.commit(func(tx *bbolt.Tx) (answer, abort error) {
		bk, cur := lookup(tx, kind, name)
		if cur == nil {
			return ErrNotFound, nil
		}
		if err := decodeInto(cur, obj); err != nil {
			return nil, err
		}
		setTypeMeta(obj, kind)
		stored := saveMeta(obj)
		if err := change(); err != nil {
			return changeFailed{err}, nil
		}
		stored.restore(obj)
		obj.SetName(name)
		setTypeMeta(obj, kind)
		return b.replace(tx, bk, kind, obj, cur)
	})
	var cf changeFailed
	switch {
	case err == nil, errors.Is(err, errUnchanged):
		return nil
	case errors.As(err, &cf):
		return cf.err
	default:
		return fmt.Errorf("update %s %s: %w", kind, name, err)
	}
}

// UpdateStatus replaces the stored object's status with obj's and reads
// the whole stored object back into obj. The resource version in obj is
// not checked: the status has one writer, and a spec written meanwhile is
// kept, not overwritten. Kinds without a Status field are refused.
func (b *Bolt) UpdateStatus(ctx context.Context, obj Object) error {
	kind, name := KindOf(obj), obj.GetName()
	status := reflect.ValueOf(obj).Elem().FieldByName("Status")
	if !status.IsValid() {
		return fmt.Errorf("update status of %s %s: the kind has no status", kind, name)
	}
	release, err := b.enter(ctx, true)
	if err != nil {
		return fmt.Errorf("update status of %s %s: %w", kind, name, err)
	}
	defer release()
	typ := reflect.TypeOf(obj).Elem()
	var merged Object
	err = b.commit(func(tx *bbolt.Tx) (answer, abort error) {
		bk, cur := lookup(tx, kind, name)
		if cur == nil {
			return ErrNotFound, nil
		}
		merged = reflect.New(typ).Interface().(Object)
		if err := decodeInto(cur, merged); err != nil {
			return nil, err
		}
		setTypeMeta(merged, kind)
		reflect.ValueOf(merged).Elem().FieldByName("Status").Set(status)
		return b.replace(tx, bk, kind, merged, cur)
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("update status of %s %s: %w", kind, name, err)
	}
	reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(merged).Elem())
	return nil
}

// Delete removes the named object. A non-empty resource version in obj
// must still be the stored one (ErrConflict otherwise).
func (b *Bolt) Delete(ctx context.Context, obj Object) error {
	kind, name := KindOf(obj), obj.GetName()
	release, err := b.enter(ctx, true)
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, name, err)
	}
	defer release()
	want := obj.GetResourceVersion()
	typ := reflect.TypeOf(obj).Elem()
	err = b.commit(func(tx *bbolt.Tx) (answer, abort error) {
		bk, cur := lookup(tx, kind, name)
		if cur == nil {
			return ErrNotFound, nil
		}
		// Watchers get the object as it was, under the deletion's version.
		old := reflect.New(typ).Interface().(Object)
		if err := decodeInto(cur, old); err != nil {
			return nil, err
		}
		if want != "" && want != old.GetResourceVersion() {
			return fmt.Errorf("%w (have resourceVersion %s, stored %s)", ErrConflict, want, old.GetResourceVersion()), nil
		}
		if err := bk.Delete([]byte(name)); err != nil {
			return nil, fmt.Errorf("delete key: %w", err)
		}
		rv, err := nextResourceVersion(tx)
		if err != nil {
			return nil, err
		}
		old.SetResourceVersion(formatRV(rv))
		setTypeMeta(old, kind)
		tx.OnCommit(func() { b.watch.publish(rv, Event{Type: Deleted, Kind: kind, Name: name, Object: old}) })
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, name, err)
	}
	return nil
}

// replace writes obj over the stored JSON cur under a new resource version
// and queues its event, or answers errUnchanged when obj, with the stored
// resource version, encodes to cur: nothing but bookkeeping would change.
func (b *Bolt) replace(tx *bbolt.Tx, bk *bbolt.Bucket, kind string, obj Object, cur []byte) (answer, abort error) {
	same, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	if bytes.Equal(same, cur) {
		return errUnchanged, nil
	}
	rv, err := nextResourceVersion(tx)
	if err != nil {
		return nil, err
	}
	obj.SetResourceVersion(formatRV(rv))
	if err := put(bk, obj.GetName(), obj); err != nil {
		return nil, err
	}
	b.publishOnCommit(tx, rv, Modified, kind, obj)
	return nil, nil
}

// commit runs op in a write transaction, possibly shared with concurrent
// writers. op's answer (ErrConflict, ErrNotFound, …) goes back to the
// caller and must come with no writes; abort fails the transaction. bbolt
// re-runs a batch when one of its functions aborts, so op may run more than
// once and must derive everything from tx: which is also why expected
// answers are not returned to bbolt as errors.
func (b *Bolt) commit(op func(tx *bbolt.Tx) (answer, abort error)) error {
	var answer error
	err := b.write(func(tx *bbolt.Tx) error {
		var abort error
		answer, abort = op(tx)
		return abort
	})
	if err != nil {
		return err
	}
	return answer
}

// write commits fn in a write transaction, in the way b.mode says; by
// default through the group commit (group.go).
func (b *Bolt) write(fn func(*bbolt.Tx) error) error {
	switch b.mode {
	case writeSolo:
		return b.db.Update(fn)
	case writeBatch:
		return b.db.Batch(fn)
	}
	return b.groupWrite(fn)
}

// publishOnCommit queues an event with a copy of obj for delivery once tx
// has committed; a rolled-back tx drops it.
func (b *Bolt) publishOnCommit(tx *bbolt.Tx, rv uint64, typ EventType, kind string, obj Object) {
	ev := Event{Type: typ, Kind: kind, Name: obj.GetName(), Object: obj.DeepCopyObject().(Object)}
	tx.OnCommit(func() { b.watch.publish(rv, ev) })
}

func lookup(tx *bbolt.Tx, kind, name string) (*bbolt.Bucket, []byte) {
	bk := tx.Bucket([]byte(kind))
	if bk == nil {
		return nil, nil
	}
	return bk, bk.Get([]byte(name))
}

func put(bk *bbolt.Bucket, name string, obj Object) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	if err := bk.Put([]byte(name), data); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func formatRV(rv uint64) string { return strconv.FormatUint(rv, 10) }

// storedMeta is the part of a stored object's metadata the store owns.
type storedMeta struct {
	ResourceVersion   string      `json:"resourceVersion"`
	UID               types.UID   `json:"uid"`
	CreationTimestamp metav1.Time `json:"creationTimestamp"`
}

func decodeMeta(data []byte) (storedMeta, error) {
	var doc struct {
		Metadata storedMeta `json:"metadata"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return storedMeta{}, fmt.Errorf("decode stored metadata: %w", err)
	}
	return doc.Metadata, nil
}

// savedMeta remembers the caller's store-owned fields, to put them back
// when a write does not happen.
type savedMeta struct {
	rv      string
	uid     types.UID
	created metav1.Time
}

func saveMeta(obj Object) savedMeta {
	return savedMeta{rv: obj.GetResourceVersion(), uid: obj.GetUID(), created: obj.GetCreationTimestamp()}
}

func (s savedMeta) restore(obj Object) {
	obj.SetResourceVersion(s.rv)
	obj.SetUID(s.uid)
	obj.SetCreationTimestamp(s.created)
}
