package taskmetadata

import (
	"context"
	"fmt"
	"sync"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// index is the tasks as the endpoint answers from them: kept in memory
// from the store's watch, so a request costs no store read, and keyed by
// the containers' metadata ids.
type index struct {
	mu    sync.RWMutex
	tasks map[string]*apiv1.Task // by task name
	byEID map[string]ref
	ready bool
}

// ref names one container of one task.
type ref struct {
	task, container string
}

func newIndex() *index {
	return &index{tasks: map[string]*apiv1.Task{}, byEID: map[string]ref{}}
}

// follow fills the index with every task and keeps it current until ctx
// ends. The watch is registered before the list is read, so no change
// falls between them; an older version never replaces a newer one.
func (x *index) follow(ctx context.Context, st store.Store) error {
	cancel := st.Watch("Task", func(e store.Event) {
		t, ok := e.Object.(*apiv1.Task)
		if !ok {
			return
		}
		if e.Type == store.Deleted {
			x.remove(t.Name)
			return
		}
		x.put(t)
	})
	defer cancel()
	var list apiv1.TaskList
	if err := st.List(ctx, &list); err != nil {
		return fmt.Errorf("task metadata: list tasks: %w", err)
	}
	for i := range list.Items {
		x.put(&list.Items[i])
	}
	x.mu.Lock()
	x.ready = true
	x.mu.Unlock()
	<-ctx.Done()
	return nil
}

func (x *index) put(t *apiv1.Task) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.tasks[t.Name]; ok && newer(old.ResourceVersion, t.ResourceVersion) {
		return
	}
	x.dropLocked(t.Name)
	x.tasks[t.Name] = t
	for _, cs := range t.Status.Containers {
		if cs.MetadataID != "" {
			x.byEID[cs.MetadataID] = ref{task: t.Name, container: cs.Name}
		}
	}
}

func (x *index) remove(name string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.dropLocked(name)
}

func (x *index) dropLocked(name string) {
	old, ok := x.tasks[name]
	if !ok {
		return
	}
	for _, cs := range old.Status.Containers {
		delete(x.byEID, cs.MetadataID)
	}
	delete(x.tasks, name)
}

// lookup returns the task and container a metadata id names. The task is
// shared: callers must not change it.
func (x *index) lookup(eid string) (*apiv1.Task, string, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	r, ok := x.byEID[eid]
	if !ok {
		return nil, "", false
	}
	return x.tasks[r.task], r.container, true
}

// newer reports whether resource version a is after b (both decimal
// counters of one store).
func newer(a, b string) bool {
	return len(a) > len(b) || (len(a) == len(b) && a > b)
}
