package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/statechange"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// fakeSubmitter records what the control plane acknowledged, as lines
// ("task RUNNING app,side", "container side STOPPED 3"), and fails the next
// fail calls.
type fakeSubmitter struct {
	mu   sync.Mutex
	fail int
	// refuse makes every call a refusal for good (ECS's ClientException).
	refuse bool
	calls  int
	acked  []string
	tasks  []statechange.Task
}

func (s *fakeSubmitter) SubmitTaskState(_ context.Context, r statechange.Task) error {
	line := "task " + string(r.Status)
	sep := " "
	for _, c := range r.Containers {
		line += sep + c.ContainerName
		sep = ","
	}
	return s.submit(line, &r)
}

func (s *fakeSubmitter) SubmitContainerState(_ context.Context, r statechange.Container) error {
	line := fmt.Sprintf("container %s %s", r.ContainerName, r.Status)
	if r.ExitCode != nil {
		line += fmt.Sprintf(" %d", *r.ExitCode)
	}
	return s.submit(line, nil)
}

func (s *fakeSubmitter) submit(line string, tr *statechange.Task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail > 0 {
		s.fail--
		return errors.New("ThrottlingException: rate exceeded")
	}
	if s.refuse {
		return fmt.Errorf("%w: ClientException: The referenced task was not found", statechange.ErrRefused)
	}
	s.acked = append(s.acked, line)
	if tr != nil {
		s.tasks = append(s.tasks, *tr)
	}
	return nil
}

func (s *fakeSubmitter) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.acked...)
}

func (f *fixture) addECSTask(name string, containers ...apiv1.ContainerSpec) {
	f.t.Helper()
	task := &apiv1.Task{Spec: apiv1.TaskSpec{
		Arn: "arn:aws:ecs:us-west-2:123456789012:task/test/" + name, Family: "fam", Revision: 1, Cluster: "test",
		DesiredStatus: apiv1.StatusRunning, Containers: containers, Source: apiv1.SourceECS,
	}}
	task.Name = name
	if err := f.store.Create(f.ctx, task); err != nil {
		f.t.Fatal(err)
	}
}

func reportAll(t *testing.T, r *ReportReconciler, name string) error {
	t.Helper()
	for range 20 {
		res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
		if err != nil || !res.Requeue {
			return err
		}
	}
	t.Fatalf("reporter still requeueing task %s after 20 passes", name)
	return nil
}

func wantLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reported\n  %q\nwant\n  %q", got, want)
	}
}

func TestReporterSendsEachTransitionOnceInLifecycleOrder(t *testing.T) {
	f := newFixture(t)
	sub := &fakeSubmitter{}
	r := &ReportReconciler{Store: f.store, Submitter: sub}
	side := ctr("side")
	side.Essential = false
	app := ctr("app")
	app.PortMappings = []apiv1.PortMapping{{ContainerPort: 80}}
	f.addECSTask("t1", app, side)

	task := f.settle("t1")
	if err := reportAll(t, r, "t1"); err != nil {
		t.Fatal(err)
	}
	wantLines(t, sub.lines(), "task RUNNING app,side")
	if b := sub.tasks[0].Containers[0].NetworkBindings; len(b) != 1 || b[0].HostPort == 0 || b[0].ContainerPort != 80 {
		t.Fatalf("RUNNING report of app carries bindings %+v, want container port 80 on a host port", b)
	}

	f.docker.Exit(task.Status.ContainerStatusFor("side").DockerID, 3)
	f.settle("t1")
	if err := reportAll(t, r, "t1"); err != nil {
		t.Fatal(err)
	}
	wantLines(t, sub.lines(), "task RUNNING app,side", "container side STOPPED 3")

	f.docker.Exit(task.Status.ContainerStatusFor("app").DockerID, 0)
	f.settle("t1")
	for range 3 {
		if err := reportAll(t, r, "t1"); err != nil {
			t.Fatal(err)
		}
	}
	wantLines(t, sub.lines(), "task RUNNING app,side", "container side STOPPED 3", "task STOPPED app")
	last := sub.tasks[1]
	if last.Reason != apiv1.ReasonEssentialContainerExited || last.ExecutionStoppedAt == nil {
		t.Fatalf("STOPPED report %+v: want reason %q and executionStoppedAt", last, apiv1.ReasonEssentialContainerExited)
	}
	if c := last.Containers[0]; c.ExitCode == nil || *c.ExitCode != 0 {
		t.Fatalf("STOPPED report of app has exit code %v, want 0", c.ExitCode)
	}
	var rep apiv1.TaskReport
	if err := f.store.Get(f.ctx, "t1", &rep); err != nil {
		t.Fatalf("the reporter's TaskReport: %v", err)
	}
	if rep.Status.TaskStatus != apiv1.StatusStopped || rep.Status.Containers["side"] != apiv1.StatusStopped {
		t.Fatalf("acknowledgements not recorded: %+v", rep.Status)
	}
	// The tasks reconciler, the task status's one writer, copies them.
	got := f.settle("t1")
	if got.Status.ReportedStatus != apiv1.StatusStopped || got.Status.ContainerStatusFor("side").ReportedStatus != apiv1.StatusStopped {
		t.Fatalf("acknowledgements not copied into the task: %+v", got.Status)
	}
}

func TestReporterReportsRunningBeforeStoppedWhenBothHappenedWhileUnreachable(t *testing.T) {
	f := newFixture(t)
	sub := &fakeSubmitter{fail: 5}
	r := &ReportReconciler{Store: f.store, Submitter: sub}
	f.addECSTask("t1", ctr("app"))
	task := f.settle("t1")
	if err := reportAll(t, r, "t1"); err == nil {
		t.Fatal("reporter returned no error while the control plane refused the report")
	}
	f.docker.Exit(task.Status.ContainerStatusFor("app").DockerID, 7)
	f.settle("t1")
	for range 4 {
		_ = reportAll(t, r, "t1")
	}
	if err := reportAll(t, r, "t1"); err != nil {
		t.Fatalf("reporter failed once the control plane answered again: %v", err)
	}
	wantLines(t, sub.lines(), "task RUNNING app", "task STOPPED app")
	if sub.calls != 5+2 {
		t.Fatalf("%d submit calls, want 5 refused and 2 accepted", sub.calls)
	}
}

func TestReporterAfterRestartSendsNothingAlreadyAcknowledged(t *testing.T) {
	f := newFixture(t)
	path := f.store.Path()
	sub := &fakeSubmitter{}
	f.addECSTask("t1", ctr("app"))
	f.settle("t1")
	if err := reportAll(t, &ReportReconciler{Store: f.store, Submitter: sub}, "t1"); err != nil {
		t.Fatal(err)
	}
	wantLines(t, sub.lines(), "task RUNNING app")
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}

	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	again := &fakeSubmitter{}
	if err := reportAll(t, &ReportReconciler{Store: st, Submitter: again}, "t1"); err != nil {
		t.Fatal(err)
	}
	if again.calls != 0 {
		t.Fatalf("restarted reporter sent %q again", again.lines())
	}
}

func TestReporterIgnoresStaticTasks(t *testing.T) {
	f := newFixture(t)
	sub := &fakeSubmitter{}
	f.addTask("t1", ctr("app"))
	f.settle("t1")
	if err := reportAll(t, &ReportReconciler{Store: f.store, Submitter: sub}, "t1"); err != nil {
		t.Fatal(err)
	}
	if sub.calls != 0 {
		t.Fatalf("static task reported: %q", sub.lines())
	}
}

func TestTaskNeverStartedIsReportedStoppedOnly(t *testing.T) {
	f := newFixture(t)
	sub := &fakeSubmitter{}
	f.addECSTask("t1", ctr("app"))
	if _, err := store.Mutate(f.ctx, f.store, "t1", func(t *apiv1.Task) error {
		t.Spec.DefinitionError = "containerDefinitions[0].memory: must be at least 6"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.settle("t1")
	if err := reportAll(t, &ReportReconciler{Store: f.store, Submitter: sub}, "t1"); err != nil {
		t.Fatal(err)
	}
	wantLines(t, sub.lines(), "task STOPPED app")
}

func TestECSTaskIsCleanedUpOnlyAfterItsStopWasReported(t *testing.T) {
	f := newFixture(t)
	sub := &fakeSubmitter{}
	f.addECSTask("t1", ctr("app"))
	task := f.settle("t1")
	f.docker.Exit(task.Status.ContainerStatusFor("app").DockerID, 0)
	f.settle("t1")
	f.now = f.now.Add(time.Hour + time.Second)
	if f.settle("t1") == nil {
		t.Fatal("ECS task cleaned up before the control plane heard it stopped")
	}
	if err := reportAll(t, &ReportReconciler{Store: f.store, Submitter: sub}, "t1"); err != nil {
		t.Fatal(err)
	}
	if f.settle("t1") != nil {
		t.Fatal("ECS task not cleaned up after its stop was reported and the wait passed")
	}
}

// TestReportOfACleanedUpTaskIsForgotten: the task is cleaned up only once
// its STOPPED was acknowledged, and the reporter then deletes the report
// it owns.
func TestReportOfACleanedUpTaskIsForgotten(t *testing.T) {
	f := newFixture(t)
	f.r.Opts.CleanupWait = time.Minute
	sub := &fakeSubmitter{}
	r := &ReportReconciler{Store: f.store, Submitter: sub}
	f.addECSTask("t1", ctr("app"))
	task := f.settle("t1")
	f.docker.Exit(task.Status.ContainerStatusFor("app").DockerID, 0)
	f.settle("t1")
	f.now = f.now.Add(2 * time.Minute)
	if task := f.settle("t1"); task == nil {
		t.Fatal("task cleaned up before its STOPPED was reported")
	}
	if err := reportAll(t, r, "t1"); err != nil {
		t.Fatal(err)
	}
	if task := f.settle("t1"); task != nil {
		t.Fatalf("task not cleaned up after its STOPPED was acknowledged: reported %q", task.Status.ReportedStatus)
	}
	if err := reportAll(t, r, "t1"); err != nil {
		t.Fatal(err)
	}
	var rep apiv1.TaskReport
	if err := f.store.Get(f.ctx, "t1", &rep); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("report of the cleaned-up task: %v, want it deleted", err)
	}
}

// TestReportStartsFromAcknowledgementsInTheTask: a store written before
// TaskReport existed kept the acknowledgements in the task's status; they
// are not sent again.
func TestReportStartsFromAcknowledgementsInTheTask(t *testing.T) {
	f := newFixture(t)
	sub := &fakeSubmitter{}
	r := &ReportReconciler{Store: f.store, Submitter: sub}
	f.addECSTask("t1", ctr("app"))
	f.settle("t1")
	if _, err := store.Mutate(f.ctx, f.store, "t1", func(t *apiv1.Task) error {
		t.Status.ReportedStatus = apiv1.StatusRunning
		t.Status.Containers[0].ReportedStatus = apiv1.StatusRunning
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := reportAll(t, r, "t1"); err != nil {
		t.Fatal(err)
	}
	if lines := sub.lines(); len(lines) != 0 {
		t.Fatalf("reports sent again: %v", lines)
	}
}

// TestRefusedReportIsNotRetriedAndOutlivesItsTaskAsATombstone: ECS refused
// the task's reports for good; they are not sent again, the task is still
// cleaned up, and its report stays for a day so that the ECS source, which
// may still see the task listed as running, never starts it again.
func TestRefusedReportIsNotRetriedAndOutlivesItsTaskAsATombstone(t *testing.T) {
	f := newFixture(t)
	f.r.Opts.CleanupWait = time.Minute
	sub := &fakeSubmitter{refuse: true}
	r := &ReportReconciler{Store: f.store, Submitter: sub, Now: func() time.Time { return f.now }}
	f.addECSTask("t1", ctr("app"))
	task := f.settle("t1")
	f.docker.Exit(task.Status.ContainerStatusFor("app").DockerID, 0)
	f.settle("t1")
	if err := reportAll(t, r, "t1"); err != nil {
		t.Fatalf("a refused report came back as an error to retry: %v", err)
	}
	if err := reportAll(t, r, "t1"); err != nil || sub.calls != 2 {
		t.Fatalf("%d submissions (err %v), want 2 (RUNNING, STOPPED), each once", sub.calls, err)
	}
	f.now = f.now.Add(2 * time.Minute)
	if task := f.settle("t1"); task != nil {
		t.Fatalf("task with a refused STOPPED report not cleaned up: %s", task.Status.ReportedStatus)
	}
	res, err := r.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "t1"}})
	var rep apiv1.TaskReport
	if err != nil || f.store.Get(f.ctx, "t1", &rep) != nil || rep.Status.RefusedAt == nil || res.RequeueAfter <= 0 {
		t.Fatalf("after cleanup: err %v, report %+v, requeue %v; want the report kept as a tombstone", err, rep.Status, res.RequeueAfter)
	}
	f.now = f.now.Add(tombstoneTTL)
	if _, err := r.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "t1"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Get(f.ctx, "t1", &rep); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("tombstone after %s: %v, want deleted", tombstoneTTL, err)
	}
}
