package static

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

var arnPattern = regexp.MustCompile(`^arn:aws:ecs:local:000000000000:task/test/[0-9a-f]{32}$`)

func TestFileAddedCreatesRunningTask(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	startSource(t, dir, st, time.Hour) // events only: the rescan never fires
	path := filepath.Join(dir, "web.json")
	writeFile(t, path, definition("web", "1"))

	eventually(t, "record of web.json", func() bool { _, ok := getRecord(t, st, path); return ok })
	rec, _ := getRecord(t, st, path)
	tasks := tasksOf(t, st, path)
	task, ok := tasks[1]
	if !ok || len(tasks) != 1 {
		t.Fatalf("tasks of web.json = %v, want one at revision 1", tasks)
	}
	if rec.Spec.Task != task.Name || rec.Spec.Revision != 1 || rec.Spec.Digest != task.Annotations[AnnotationDigest] {
		t.Errorf("record %+v does not match task %s %v", rec.Spec, task.Name, task.Annotations)
	}
	s := task.Spec
	if s.DesiredStatus != apiv1.StatusRunning || s.Source != apiv1.SourceStatic || s.SourceRef != path ||
		s.Family != "web" || s.Cluster != "test" || s.DefinitionError != "" || len(s.Containers) != 1 {
		t.Errorf("task spec = %+v", s)
	}
	if !arnPattern.MatchString(s.Arn) || !strings.HasSuffix(s.Arn, "/"+task.Name) {
		t.Errorf("ARN %q, name %q", s.Arn, task.Name)
	}
}

func TestFileChangedStopsOldTaskAndCreatesNextRevision(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	path := filepath.Join(dir, "web.json")
	writeFile(t, path, definition("web", "1"))
	startSource(t, dir, st, time.Hour)
	first := tasksOf(t, st, path)[1]

	writeFile(t, path, definition("web", "2"))
	eventually(t, "revision 2", func() bool { _, ok := tasksOf(t, st, path)[2]; return ok })
	second := tasksOf(t, st, path)[2]
	eventually(t, "record at revision 2", func() bool { rec, _ := getRecord(t, st, path); return rec.Spec.Revision == 2 })
	if got := taskDesired(t, st, first.Name); got != apiv1.StatusStopped {
		t.Errorf("old task desired %s, want STOPPED", got)
	}
	if second.Spec.DesiredStatus != apiv1.StatusRunning || second.Spec.Revision != 2 || second.Name == first.Name {
		t.Errorf("new task = %s %+v", second.Name, second.Spec)
	}
	if rec, _ := getRecord(t, st, path); rec.Spec.Task != second.Name {
		t.Errorf("record names task %s, want %s", rec.Spec.Task, second.Name)
	}
}

func TestFileRemovedStopsTaskAndForgetsFile(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	path := filepath.Join(dir, "web.json")
	writeFile(t, path, definition("web", "1"))
	startSource(t, dir, st, time.Hour)
	task := tasksOf(t, st, path)[1]

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "record deleted", func() bool { _, ok := getRecord(t, st, path); return !ok })
	if got := taskDesired(t, st, task.Name); got != apiv1.StatusStopped {
		t.Errorf("task desired %s, want STOPPED", got)
	}

	// Written again, the same content is a new task: the stopped one stays
	// stopped.
	writeFile(t, path, definition("web", "1"))
	eventually(t, "record again", func() bool { _, ok := getRecord(t, st, path); return ok })
	rec, _ := getRecord(t, st, path)
	if rec.Spec.Task == task.Name || taskDesired(t, st, rec.Spec.Task) != apiv1.StatusRunning {
		t.Errorf("re-added file got task %s (old %s)", rec.Spec.Task, task.Name)
	}
}

func TestBadFileMakesTaskThatSaysWhyAndTouchesNoOther(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	good := filepath.Join(dir, "good.json")
	writeFile(t, good, definition("good", "1"))
	r := startSource(t, dir, st, time.Hour)
	goodTask := tasksOf(t, st, good)[1]

	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, `{"family":"bad","containerDefinitions":[{"name":"app","image":"i","memory":32,"portMappings":[{"containerPort":80,"protocol":"sctp"}]}]}`)
	eventually(t, "task of bad.json", func() bool { return len(tasksOf(t, st, bad)) == 1 })
	task := tasksOf(t, st, bad)[1]
	want := "invalid task definition " + bad + `: containerDefinitions[0].portMappings[0].protocol: "sctp": must be one of tcp, udp`
	if task.Spec.DefinitionError != want {
		t.Errorf("DefinitionError = %q\nwant %q", task.Spec.DefinitionError, want)
	}
	if task.Spec.Family != "bad" || task.Spec.DesiredStatus != apiv1.StatusRunning || len(task.Spec.Containers) != 0 {
		t.Errorf("bad task spec = %+v", task.Spec)
	}

	notJSON := filepath.Join(dir, "broken name.json")
	writeFile(t, notJSON, "{\n  \"family\": \"x\",,\n}")
	eventually(t, "task of the broken file", func() bool { return len(tasksOf(t, st, notJSON)) == 1 })
	task = tasksOf(t, st, notJSON)[1]
	if !strings.Contains(task.Spec.DefinitionError, notJSON+":2:17:") || task.Spec.Family != "broken-name" {
		t.Errorf("broken file task: family %q, error %q", task.Spec.Family, task.Spec.DefinitionError)
	}

	r.waitScans(t, 0)
	if got := tasksOf(t, st, good); len(got) != 1 || got[1].Name != goodTask.Name || got[1].Spec.DesiredStatus != apiv1.StatusRunning {
		t.Errorf("good task touched: %v", got)
	}
}

func TestRestartCreatesNoNewTasks(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	for _, name := range []string{"a.json", "b.json"} {
		writeFile(t, filepath.Join(dir, name), definition(strings.TrimSuffix(name, ".json"), "1"))
	}
	writeFile(t, filepath.Join(dir, "c.json"), `{"family":"c"}`) // bad: no containers
	first := startSource(t, dir, st, time.Hour)
	eventually(t, "three tasks", func() bool { return len(listTasks(t, st)) == 3 })
	before := listTasks(t, st)
	first.stop()

	second := startSource(t, dir, st, 20*time.Millisecond)
	second.waitScans(t, 3)
	after := listTasks(t, st)
	if len(after) != 3 {
		t.Fatalf("after restart %d tasks, want the same 3", len(after))
	}
	for i := range before {
		if after[i].Name != before[i].Name || after[i].ResourceVersion != before[i].ResourceVersion {
			t.Errorf("task %s changed across restart (rv %s → %s)", before[i].Name, before[i].ResourceVersion, after[i].ResourceVersion)
		}
	}
}

func TestStoppedTaskStaysStoppedUntilItsFileChanges(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	ctx := context.Background()
	stopped, gone := filepath.Join(dir, "stopped.json"), filepath.Join(dir, "gone.json")
	writeFile(t, stopped, definition("stopped", "1"))
	writeFile(t, gone, definition("gone", "1"))
	r := startSource(t, dir, st, 20*time.Millisecond)

	// One task ran and stopped (an essential container exited); the other
	// was also cleaned up, object and all.
	stoppedTask := tasksOf(t, st, stopped)[1]
	if _, err := store.Mutate(ctx, st, stoppedTask.Name, func(task *apiv1.Task) error {
		task.Status.KnownStatus = apiv1.StatusStopped
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	goneTask := tasksOf(t, st, gone)[1]
	if err := st.Delete(ctx, &goneTask); err != nil {
		t.Fatal(err)
	}
	r.waitScans(t, 3)
	r.stop()
	r = startSource(t, dir, st, 20*time.Millisecond)
	r.waitScans(t, 3)
	if n := len(listTasks(t, st)); n != 1 {
		t.Fatalf("%d tasks after rescans and a restart, want only the stopped one", n)
	}

	writeFile(t, gone, definition("gone", "2"))
	eventually(t, "revision 2 of gone.json", func() bool { _, ok := tasksOf(t, st, gone)[2]; return ok })
	if n := len(tasksOf(t, st, stopped)); n != 1 {
		t.Errorf("stopped.json has %d tasks, want 1", n)
	}
}

func TestHalfWrittenFileDoesNotReplaceTaskUntilItSettles(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	path := filepath.Join(dir, "web.json")
	writeFile(t, path, definition("web", "1"))
	// Drive the runner by hand so that "not yet" is not a race with timers.
	src := &Source{Dir: dir, Store: st, Settle: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := src.newRunner(ctx, dir)
	defer r.stopTimers()
	now := time.Now()
	r.now = func() time.Time { return now }
	r.syncAll(ctx)
	first := tasksOf(t, st, path)[1]

	full := definition("web", "2")
	writeFile(t, path, full[:len(full)/2])
	r.syncPath(ctx, path)
	if got := taskDesired(t, st, first.Name); got != apiv1.StatusRunning || len(tasksOf(t, st, path)) != 1 {
		t.Fatalf("half-written file acted on at once: old task %s, %d tasks", got, len(tasksOf(t, st, path)))
	}

	// The writer finishes: the complete content replaces the task at once.
	writeFile(t, path, full)
	r.syncPath(ctx, path)
	second, ok := tasksOf(t, st, path)[2]
	if !ok || second.Spec.DefinitionError != "" || taskDesired(t, st, first.Name) != apiv1.StatusStopped {
		t.Fatalf("complete file not applied: %v", tasksOf(t, st, path))
	}

	// Content that stays broken for the settle time does replace it.
	writeFile(t, path, `{"family":`)
	r.syncPath(ctx, path)
	now = now.Add(30 * time.Second)
	r.syncPath(ctx, path)
	if _, ok := tasksOf(t, st, path)[3]; ok {
		t.Fatal("broken content applied before it settled")
	}
	now = now.Add(31 * time.Second)
	r.syncPath(ctx, path)
	third, ok := tasksOf(t, st, path)[3]
	if !ok || third.Spec.DefinitionError == "" || taskDesired(t, st, second.Name) != apiv1.StatusStopped {
		t.Fatalf("settled broken content not applied: %v", tasksOf(t, st, path))
	}
}

func TestAdoptsTaskCreatedBeforeACrash(t *testing.T) {
	cases := []struct{ name, content string }{
		{"valid file", definition("web", "1")},
		// A bad file's task is adopted too, not stopped as an orphan while
		// its content settles.
		{"bad file", `{"family":"web"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, st := t.TempDir(), openStore(t)
			path := filepath.Join(dir, "web.json")
			writeFile(t, path, tc.content)
			// The agent died after creating the task and before writing
			// the record.
			ctx := context.Background()
			r := (&Source{Dir: dir, Store: st}).newRunner(ctx, dir)
			data, _, _ := r.read(path)
			def, perr := parse(path, data)
			created, err := r.findOrCreate(ctx, path, digestOf(data), 1, data, def, perr)
			if err != nil {
				t.Fatal(err)
			}

			startSource(t, dir, st, time.Hour)
			eventually(t, "record", func() bool { _, ok := getRecord(t, st, path); return ok })
			rec, _ := getRecord(t, st, path)
			if rec.Spec.Task != created.Name || rec.Spec.Revision != 1 {
				t.Fatalf("record = %+v, want it to adopt task %s", rec.Spec, created.Name)
			}
			if n := len(listTasks(t, st)); n != 1 || taskDesired(t, st, created.Name) != apiv1.StatusRunning {
				t.Errorf("%d tasks, adopted one desired %s; want it alone and RUNNING", n, taskDesired(t, st, created.Name))
			}
		})
	}
}

func TestRecordWriteFailureThenRestartAdoptsTask(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	path := filepath.Join(dir, "web.json")
	writeFile(t, path, definition("web", "1"))
	ctx := context.Background()
	r := (&Source{Dir: dir, Store: &failRecordCreate{Store: st}}).newRunner(ctx, dir)
	if err := r.apply(ctx, path, nil, true); err == nil {
		t.Fatal("apply succeeded though the record could not be written")
	}
	if _, ok := getRecord(t, st, path); ok || len(listTasks(t, st)) != 1 {
		t.Fatalf("want a task and no record before the restart")
	}
	startSource(t, dir, st, time.Hour)
	tasks := listTasks(t, st)
	if rec, ok := getRecord(t, st, path); !ok || len(tasks) != 1 || rec.Spec.Task != tasks[0].Name {
		t.Fatalf("after restart: record %v, %d tasks", rec, len(tasks))
	}
}

// failRecordCreate fails every Create of a StaticTaskFile record, as a
// crash right after the task's Create would leave things.
type failRecordCreate struct{ store.Store }

func (f *failRecordCreate) Create(ctx context.Context, obj store.Object) error {
	if _, ok := obj.(*apiv1.StaticTaskFile); ok {
		return errors.New("injected: record not written")
	}
	return f.Store.Create(ctx, obj)
}

func TestStoreFailureOnChangeIsRetriedWithoutADuplicateTask(t *testing.T) {
	dir := t.TempDir()
	inner := openStore(t)
	faulty := store.NewFaulty(inner)
	path := filepath.Join(dir, "web.json")
	writeFile(t, path, definition("web", "1"))
	startSource(t, dir, faulty, time.Hour)
	first := tasksOf(t, inner, path)[1]

	// Stopping the old task fails once: the new task exists by then, and
	// the retry must adopt it rather than make another.
	faulty.FailNext("Update", 1, errors.New("injected: store busy"))
	writeFile(t, path, definition("web", "2"))
	eventually(t, "record at revision 2", func() bool { rec, _ := getRecord(t, inner, path); return rec.Spec.Revision == 2 })
	tasks := tasksOf(t, inner, path)
	if len(tasks) != 2 || taskDesired(t, inner, first.Name) != apiv1.StatusStopped {
		t.Fatalf("tasks after retry: %v (old desired %s)", tasks, taskDesired(t, inner, first.Name))
	}
	if faulty.Calls("Update") < 2 {
		t.Errorf("the injected failure was never hit")
	}
}

func TestOrphanedTaskIsStopped(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	path := filepath.Join(dir, "web.json")
	writeFile(t, path, definition("web", "2"))
	// Made before a crash for content that changed while the agent was down.
	orphan := &apiv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: newID(), Annotations: map[string]string{AnnotationPath: path, AnnotationDigest: "old"}},
		Spec:       apiv1.TaskSpec{Family: "web", Revision: 1, DesiredStatus: apiv1.StatusRunning, Source: apiv1.SourceStatic, SourceRef: path},
	}
	ecsTask := &apiv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: newID()},
		Spec:       apiv1.TaskSpec{Family: "svc", DesiredStatus: apiv1.StatusRunning, Source: apiv1.SourceECS},
	}
	for _, task := range []*apiv1.Task{orphan, ecsTask} {
		if err := st.Create(context.Background(), task); err != nil {
			t.Fatal(err)
		}
	}
	startSource(t, dir, st, time.Hour)
	if got := taskDesired(t, st, orphan.Name); got != apiv1.StatusStopped {
		t.Errorf("orphan desired %s, want STOPPED", got)
	}
	if got := taskDesired(t, st, ecsTask.Name); got != apiv1.StatusRunning {
		t.Errorf("ECS task desired %s: the static source must not touch it", got)
	}
	rec, ok := getRecord(t, st, path)
	if !ok || rec.Spec.Task == orphan.Name || taskDesired(t, st, rec.Spec.Task) != apiv1.StatusRunning {
		t.Errorf("no running task for the file's current content: %+v", rec)
	}
}

func TestIgnoresHiddenAndOtherFiles(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	writeFile(t, filepath.Join(dir, ".web.json"), definition("hidden", "1"))
	writeFile(t, filepath.Join(dir, "notes.txt"), "hello")
	writeFile(t, filepath.Join(dir, "web.json.swp"), "x")
	if err := os.Mkdir(filepath.Join(dir, "sub.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := startSource(t, dir, st, 20*time.Millisecond)
	r.waitScans(t, 2)
	if n := len(listTasks(t, st)); n != 0 {
		t.Errorf("%d tasks from files that are not task definitions", n)
	}
}

func TestMissingDirectoryIsCreatedAndWatched(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tasks.d")
	st := openStore(t)
	startSource(t, dir, st, time.Hour)
	path := filepath.Join(dir, "web.json")
	writeFile(t, path, definition("web", "1"))
	eventually(t, "task of web.json", func() bool { return len(tasksOf(t, st, path)) == 1 })
}

func TestRescanFindsChangesWithoutEvents(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	path := filepath.Join(dir, "web.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := (&Source{Dir: dir, Store: st}).newRunner(ctx, dir) // no watcher at all
	defer r.stopTimers()
	writeFile(t, path, definition("web", "1"))
	r.syncAll(ctx)
	if len(tasksOf(t, st, path)) != 1 {
		t.Fatal("rescan did not create the task")
	}
	os.Remove(path)
	r.syncAll(ctx)
	if _, ok := getRecord(t, st, path); ok {
		t.Fatal("rescan did not notice the removal")
	}
}

// TestFIFOAndFilesOthersCanWriteStartNothingAndBlockNothing: a FIFO named
// *.json would block a plain read forever, and a file any local user can
// write would let them run containers; neither starts a task, a good file
// beside them still does, and a running task whose file loses its trust
// keeps running.
func TestFIFOAndFilesOthersCanWriteStartNothingAndBlockNothing(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	kept := filepath.Join(dir, "kept.json")
	writeFile(t, kept, definition("kept", "1"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	open := filepath.Join(dir, "open.json")
	writeFile(t, open, definition("open", "1"))
	if err := os.Chmod(open, 0o666); err != nil {
		t.Fatal(err)
	}
	r := startSource(t, dir, st, time.Hour)
	if len(tasksOf(t, st, kept)) != 1 {
		t.Fatal("no task for the good file beside a FIFO")
	}
	good := filepath.Join(dir, "good.json")
	writeFile(t, good, definition("good", "1"))
	eventually(t, "task of good.json", func() bool { return len(tasksOf(t, st, good)) == 1 })

	// kept.json turns world-writable and changes: its task goes on, and
	// the new content starts nothing.
	writeFile(t, kept, definition("kept", "2"))
	if err := os.Chmod(kept, 0o666); err != nil {
		t.Fatal(err)
	}
	r.waitScans(t, 0)
	if got := tasksOf(t, st, open); len(got) != 0 {
		t.Errorf("world-writable open.json made tasks %v", got)
	}
	if got := tasksOf(t, st, kept); len(got) != 1 || got[1].Spec.DesiredStatus != apiv1.StatusRunning {
		t.Errorf("tasks of kept.json after it lost its trust: %v, want revision 1 still running", got)
	}
}

// countTaskReads counts the reads of tasks (Gets and Lists) through it.
type countTaskReads struct {
	store.Store
	gets, lists atomic.Int64
}

func (c *countTaskReads) Get(ctx context.Context, name string, obj store.Object) error {
	if _, ok := obj.(*apiv1.Task); ok {
		c.gets.Add(1)
	}
	return c.Store.Get(ctx, name, obj)
}

func (c *countTaskReads) List(ctx context.Context, list store.ObjectList) error {
	if _, ok := list.(*apiv1.TaskList); ok {
		c.lists.Add(1)
	}
	return c.Store.List(ctx, list)
}

// TestIdleRescanReadsNoTask: a rescan that finds every file as recorded,
// with no daemon outage, reads no task: an idle agent with 200 files spent
// most of its CPU on 200 task reads and a list of every task every 30 s.
// A change makes the next rescan sweep for orphans again.
func TestIdleRescanReadsNoTask(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	for i := range 5 {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("t%d.json", i)), definition(fmt.Sprintf("t%d", i), "1"))
	}
	counted := &countTaskReads{Store: st}
	r := startSource(t, dir, counted, 20*time.Millisecond)
	if counted.lists.Load() == 0 {
		t.Fatalf("the first sync did not list the tasks; want it to sweep for orphans")
	}
	r.waitScans(t, 1)
	counted.gets.Store(0)
	counted.lists.Store(0)
	r.waitScans(t, 3)
	if g, l := counted.gets.Load(), counted.lists.Load(); g != 0 || l != 0 {
		t.Errorf("3 idle rescans read %d tasks and listed them %d times; want none", g, l)
	}

	path := filepath.Join(dir, "t0.json")
	counted.lists.Store(0)
	writeFile(t, path, definition("t0", "2"))
	eventually(t, "record at revision 2", func() bool { rec, _ := getRecord(t, st, path); return rec != nil && rec.Spec.Revision == 2 })
	r.waitScans(t, 2)
	if counted.lists.Load() == 0 {
		t.Errorf("no orphan sweep after a file changed")
	}
	r.waitScans(t, 1)
	counted.lists.Store(0)
	r.waitScans(t, 3)
	if l := counted.lists.Load(); l != 0 {
		t.Errorf("3 idle rescans after the change listed tasks %d times; want none", l)
	}
}
