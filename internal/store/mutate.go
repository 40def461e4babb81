package store

import (
	"context"
	"errors"
	"fmt"
)

// MutateAttempts bounds how many times Mutate re-reads and retries after a
// conflict before giving up with ErrConflict.
const MutateAttempts = 10

// Mutate reads the named object, applies fn and updates it, starting over
// when another writer got there first (ErrConflict). fn may run several
// times and must only change the object it is given; an error from fn stops
// Mutate and is returned wrapped. The object as stored is returned.
func Mutate[T any, PT interface {
	*T
	Object
}](ctx context.Context, s Store, name string, fn func(PT) error) (PT, error) {
	kind := KindOf(PT(new(T)))
	for range MutateAttempts {
		obj := PT(new(T))
		if err := s.Get(ctx, name, obj); err != nil {
			return nil, fmt.Errorf("mutate %s %s: %w", kind, name, err)
		}
		if err := fn(obj); err != nil {
			return nil, fmt.Errorf("mutate %s %s: %w", kind, name, err)
		}
		err := s.Update(ctx, obj)
		if err == nil {
			return obj, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("mutate %s %s: %w", kind, name, err)
		}
	}
	return nil, fmt.Errorf("mutate %s %s: gave up after %d attempts: %w", kind, name, MutateAttempts, ErrConflict)
}
