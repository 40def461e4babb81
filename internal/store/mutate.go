package store

import (
	"context"
	"fmt"
)

// Mutate reads the named object, applies fn and stores the result in one
// write transaction (Store.UpdateWith), so that it never conflicts with
// another writer: a burst of tasks each adding its pull request to one
// Image all succeed, where re-reading and retrying after each conflict
// ran out of attempts. fn may run more than once, each time on a fresh
// read; it runs inside the store's write transaction, so it must only
// change the object it is given, must not call the store, and should be
// quick. An error from fn stops Mutate with nothing written and is
// returned wrapped. The object as stored is returned.
func Mutate[T any, PT interface {
	*T
	Object
}](ctx context.Context, s Store, name string, fn func(PT) error) (PT, error) {
	obj := PT(new(T))
	obj.SetName(name)
	if err := s.UpdateWith(ctx, obj, func() error { return fn(obj) }); err != nil {
		return nil, fmt.Errorf("mutate %s %s: %w", KindOf(obj), name, err)
	}
	return obj, nil
}
