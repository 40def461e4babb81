package events

import (
	"context"
	"errors"
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// history is what Run knows of one object's stored events.
type history struct {
	names []string     // stored event names, oldest first
	last  *apiv1.Event // the newest, as stored (with its resource version)
}

// Name is the object name of an event about involvedName recorded at
// nanos (Unix nanoseconds): fixed-width hex, so the store's name order is
// time order, as Kubernetes names its events.
func Name(involvedName string, nanos int64) string {
	return fmt.Sprintf("%s.%016x", involvedName, nanos)
}

// Sort orders events oldest first: by first timestamp, then name.
func Sort(evs []apiv1.Event) {
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := evs[i].FirstTimestamp.Time, evs[j].FirstTimestamp.Time
		if !a.Equal(b) {
			return a.Before(b)
		}
		return evs[i].Name < evs[j].Name
	})
}

// objectKinds makes an empty object of each kind events are recorded on,
// to find events whose object is gone.
var objectKinds = map[string]func() store.Object{
	"Task":              func() store.Object { return &apiv1.Task{} },
	"Image":             func() store.Object { return &apiv1.Image{} },
	"PortAllocation":    func() store.Object { return &apiv1.PortAllocation{} },
	"ContainerInstance": func() store.Object { return &apiv1.ContainerInstance{} },
}

// load reads the stored events into r.objects and deletes those of objects
// that are gone (a task cleaned up while the agent was writing its last
// events, or before Forget reached the store).
func (r *Recorder) load(ctx context.Context) error {
	var list apiv1.EventList
	if err := r.store.List(ctx, &list); err != nil {
		return fmt.Errorf("list events: %w", err)
	}
	Sort(list.Items)
	for i := range list.Items {
		ev := &list.Items[i]
		key := objectKey{kind: ev.InvolvedKind, name: ev.InvolvedName}
		h := r.objects[key]
		if h == nil {
			h = &history{}
			r.objects[key] = h
		}
		h.names = append(h.names, ev.Name)
		h.last = ev
		r.lastNano = max(r.lastNano, ev.FirstTimestamp.UnixNano())
	}
	var errs []error
	for key, h := range r.objects {
		newObj, known := objectKinds[key.kind]
		if !known {
			continue
		}
		err := r.store.Get(ctx, key.name, newObj())
		switch {
		case errors.Is(err, store.ErrNotFound):
			errs = append(errs, r.forget(ctx, key))
		case err != nil:
			errs = append(errs, fmt.Errorf("check %s %s: %w", key.kind, key.name, err))
		default:
			errs = append(errs, r.trim(ctx, h))
		}
	}
	return errors.Join(errs...)
}

// record writes one event: a new Event object, or one more count on the
// object's newest event when it says the same thing.
func (r *Recorder) record(ctx context.Context, o op) error {
	h := r.objects[o.key]
	if h == nil {
		h = &history{}
		r.objects[o.key] = h
	}
	at := metav1.NewMicroTime(o.at)
	if last := h.last; last != nil && last.Type == o.typ && last.Reason == o.reason && last.Message == o.message {
		ev := last.DeepCopy()
		ev.Count++
		ev.LastTimestamp = at
		err := r.store.Update(ctx, ev)
		if err == nil {
			h.last = ev
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("count event %s: %w", last.Name, err)
		}
		// Someone removed or changed it behind our back: start afresh.
		h.names = remove(h.names, last.Name)
		h.last = nil
	}
	nanos := max(o.at.UnixNano(), r.lastNano+1) // unique even within one clock tick
	r.lastNano = nanos
	ev := &apiv1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: Name(o.key.name, nanos)},
		InvolvedKind:   o.key.kind,
		InvolvedName:   o.key.name,
		Type:           o.typ,
		Reason:         o.reason,
		Message:        o.message,
		Count:          1,
		FirstTimestamp: at,
		LastTimestamp:  at,
	}
	if err := r.store.Create(ctx, ev); err != nil {
		return fmt.Errorf("create event %s about %s %s: %w", ev.Name, o.key.kind, o.key.name, err)
	}
	h.names = append(h.names, ev.Name)
	h.last = ev
	return r.trim(ctx, h)
}

// trim deletes the object's oldest events beyond the bound.
func (r *Recorder) trim(ctx context.Context, h *history) error {
	return r.keepNewest(ctx, h, r.max)
}

// forget deletes every event of the object.
func (r *Recorder) forget(ctx context.Context, key objectKey) error {
	h := r.objects[key]
	if h == nil {
		return nil
	}
	if err := r.keepNewest(ctx, h, 0); err != nil {
		return fmt.Errorf("forget events of %s %s: %w", key.kind, key.name, err)
	}
	delete(r.objects, key)
	return nil
}

// keepNewest deletes the object's oldest events until n are left.
func (r *Recorder) keepNewest(ctx context.Context, h *history, n int) error {
	for len(h.names) > n {
		if err := r.deleteEvent(ctx, h.names[0]); err != nil {
			return err
		}
		h.names = h.names[1:]
	}
	return nil
}

func (r *Recorder) deleteEvent(ctx context.Context, name string) error {
	err := r.store.Delete(ctx, &apiv1.Event{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete event %s: %w", name, err)
	}
	return nil
}

func remove(names []string, name string) []string {
	out := names[:0]
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}
