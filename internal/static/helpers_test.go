package static

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

const (
	testSettle = 40 * time.Millisecond
	deadline   = 10 * time.Second
)

// definition is a valid task definition file whose content differs with
// arg.
func definition(family, arg string) string {
	return fmt.Sprintf(`{"family":%q,"containerDefinitions":[{"name":"app","image":"ecs-agent-test/app:latest","command":["sleep",%q],"memory":32}]}`, family, arg)
}

// openStore opens a real bbolt store in a temp dir.
func openStore(t *testing.T) *store.Bolt {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "agent.db"), store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// running is a Source running in the background.
type running struct {
	src    *Source
	cancel context.CancelFunc
	done   chan error
}

// startSource runs a Source on dir and st, and waits for its first sync.
func startSource(t *testing.T, dir string, st store.Store, rescan time.Duration) *running {
	t.Helper()
	return startSourceWith(t, dir, st, rescan, func(*Source) {})
}

// startSourceWith is startSource with the Source's other fields set by
// configure.
func startSourceWith(t *testing.T, dir string, st store.Store, rescan time.Duration, configure func(*Source)) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	src := &Source{Dir: dir, Store: st, Cluster: "test", Settle: testSettle, Rescan: rescan, Log: testr.New(t)}
	configure(src)
	r := &running{src: src, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx) }()
	t.Cleanup(r.stop)
	eventually(t, "first sync", func() bool { return src.Synced() })
	return r
}

// stop ends the Source as an agent shutdown (or kill) would, and waits.
func (r *running) stop() {
	r.cancel()
	<-r.done
	r.done <- nil // let a second stop (from Cleanup) return
}

// waitScans waits for n more full syncs, so that a test can assert that
// something did not happen.
func (r *running) waitScans(t *testing.T, n int64) {
	t.Helper()
	target := r.src.scans.Load() + n
	eventually(t, fmt.Sprintf("%d rescans", n), func() bool { return r.src.scans.Load() >= target })
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, what, deadline, 5*time.Millisecond, func() (bool, string) { return cond(), "" })
}

func listTasks(t *testing.T, st store.Store) []apiv1.Task {
	t.Helper()
	var list apiv1.TaskList
	if err := st.List(context.Background(), &list); err != nil {
		t.Fatalf("list tasks: %v", err)
	}
	return list.Items
}

// tasksOf returns the tasks made from path, oldest revision first.
func tasksOf(t *testing.T, st store.Store, path string) map[int64]apiv1.Task {
	t.Helper()
	m := map[int64]apiv1.Task{}
	for _, task := range listTasks(t, st) {
		if task.Annotations[AnnotationPath] == path {
			if _, dup := m[task.Spec.Revision]; dup {
				t.Fatalf("two tasks of %s at revision %d", path, task.Spec.Revision)
			}
			m[task.Spec.Revision] = task
		}
	}
	return m
}

func getRecord(t *testing.T, st store.Store, path string) (*apiv1.StaticTaskFile, bool) {
	t.Helper()
	var rec apiv1.StaticTaskFile
	err := st.Get(context.Background(), recordName(path), &rec)
	if err != nil {
		return nil, false
	}
	return &rec, true
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func taskDesired(t *testing.T, st store.Store, name string) apiv1.TaskStatusName {
	t.Helper()
	var task apiv1.Task
	if err := st.Get(context.Background(), name, &task); err != nil {
		return "GONE"
	}
	return task.Spec.DesiredStatus
}
