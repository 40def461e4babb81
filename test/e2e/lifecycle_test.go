package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// startTimeout bounds how long a task of the cached test image may take to
// reach RUNNING on a busy 2-core machine.
const startTimeout = 30 * time.Second

// inspect is docker inspect of a container that must exist.
func inspect(t testing.TB, id string) h.DockerContainer {
	t.Helper()
	if id == "" {
		t.Fatalf("inspect: no docker id")
	}
	c, ok, err := h.Inspect(id)
	if err != nil {
		t.Fatalf("inspect %s: %v", id, err)
	}
	if !ok {
		t.Fatalf("container %s does not exist", id)
	}
	return c
}

func TestDependentContainerStartsAfterItsDependency(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("web.json", h.Task("web",
		h.App("db", "sleep"),
		h.App("app", "sleep").After("db", apiv1.ConditionStart),
	).JSON())

	task := a.WaitTask(t, "web.json", startTimeout, h.IsRunning)
	db := inspect(t, h.Container(t, task, "db").DockerID)
	app := inspect(t, h.Container(t, task, "app").DockerID)
	if !db.State.Running || !app.State.Running {
		t.Errorf("docker says db running=%v, app running=%v; want both running", db.State.Running, app.State.Running)
	}
	if !app.State.StartedAt.After(db.State.StartedAt) {
		t.Errorf("app started at %s, not after its START dependency db (%s)", app.State.StartedAt, db.State.StartedAt)
	}
	for _, c := range []h.DockerContainer{db, app} {
		if got := c.Config.Labels[h.LabelCluster]; got != a.Cluster {
			t.Errorf("container %s label %s = %q, want %q", c.Name, h.LabelCluster, got, a.Cluster)
		}
		if got := c.Config.Labels[h.LabelTaskARN]; got != task.Spec.Arn {
			t.Errorf("container %s label %s = %q, want %q", c.Name, h.LabelTaskARN, got, task.Spec.Arn)
		}
	}
	if got := app.Config.Labels[h.LabelContainerName]; got != "app" {
		t.Errorf("app label %s = %q, want app", h.LabelContainerName, got)
	}
	checkIntrospection(t, a, task)
}

// checkIntrospection compares /v1/tasks with the store's view of a running
// task.
func checkIntrospection(t *testing.T, a *h.Agent, task apiv1.Task) {
	t.Helper()
	v1, err := a.V1Tasks()
	if err != nil {
		t.Fatal(err)
	}
	var found *h.IntrospectionTask
	for i := range v1.Tasks {
		if v1.Tasks[i].Arn == task.Spec.Arn {
			found = &v1.Tasks[i]
		}
	}
	if found == nil {
		t.Fatalf("/v1/tasks has no task %s: %+v", task.Spec.Arn, v1)
	}
	if found.KnownStatus != "RUNNING" || found.DesiredStatus != "RUNNING" || found.Family != task.Spec.Family {
		t.Errorf("/v1/tasks: KnownStatus=%q DesiredStatus=%q Family=%q, want RUNNING RUNNING %q",
			found.KnownStatus, found.DesiredStatus, found.Family, task.Spec.Family)
	}
	ids := map[string]string{}
	for _, c := range found.Containers {
		ids[c.Name] = c.DockerID
	}
	for _, c := range task.Status.Containers {
		if ids[c.Name] != c.DockerID {
			t.Errorf("/v1/tasks container %s DockerId = %q, want %q", c.Name, ids[c.Name], c.DockerID)
		}
	}
}

func TestEssentialContainerExitStopsTask(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("batch.json", h.Task("batch",
		h.App("main", "exit", "3", "1s"),
		h.App("side", "sleep").NotEssential(),
	).JSON())

	task := a.WaitTask(t, "batch.json", startTimeout, h.IsStopped)
	main := h.Container(t, task, "main")
	if main.ExitCode == nil || *main.ExitCode != 3 {
		t.Errorf("main exit code = %v, want 3; %s", main.ExitCode, h.Describe(task))
	}
	if !strings.Contains(strings.ToLower(task.Status.StoppedReason), "essential container") {
		t.Errorf("stoppedReason = %q, want it to name the essential container's exit", task.Status.StoppedReason)
	}
	side := h.Container(t, task, "side")
	if side.KnownStatus != apiv1.StatusStopped {
		t.Errorf("side container is %s, want STOPPED", side.KnownStatus)
	}
	if side.StartedAt == nil {
		t.Errorf("side container never started; the test wants a running container stopped by the exit")
	}
	if d := inspect(t, side.DockerID); d.State.Running {
		t.Errorf("docker says side is still running (%s)", d.State.Status)
	}
}

func TestDependsOnConditions(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	cases := []struct {
		file  string
		def   h.TaskDefinition
		check func(t *testing.T, task apiv1.Task)
	}{{
		file: "success.json",
		def: h.Task("success",
			h.App("init", "exit", "0").NotEssential(),
			h.App("app", "sleep").After("init", apiv1.ConditionSuccess)),
		check: func(t *testing.T, task apiv1.Task) { startedAfterExit(t, task, "init", 0) },
	}, {
		file: "failed-success.json",
		def: h.Task("failedsuccess",
			h.App("init", "exit", "1").NotEssential(),
			h.App("app", "sleep").After("init", apiv1.ConditionSuccess)),
		check: func(t *testing.T, task apiv1.Task) {
			if task.Status.KnownStatus != apiv1.StatusStopped {
				t.Fatalf("task not stopped: %s", h.Describe(task))
			}
			if !strings.Contains(task.Status.StoppedReason, "DependencyError") {
				t.Errorf("stoppedReason = %q, want a DependencyError", task.Status.StoppedReason)
			}
			app := h.Container(t, task, "app")
			if app.StartedAt != nil {
				t.Errorf("app started at %s although init failed its SUCCESS condition", app.StartedAt)
			}
			if app.DockerID != "" {
				if d := inspect(t, app.DockerID); d.State.Started() {
					t.Errorf("docker says app started at %s although init failed", d.State.StartedAt)
				}
			}
		},
	}, {
		file: "healthy.json",
		def: h.Task("healthy",
			h.App("db", "healthy-after", "2s").HealthCheckedByTestapp(),
			h.App("app", "sleep").After("db", apiv1.ConditionHealthy)),
		check: func(t *testing.T, task apiv1.Task) {
			if ok, why := h.IsRunning(task); !ok {
				t.Fatalf("task not running: %s", why)
			}
			db := h.Container(t, task, "db")
			if db.Health == nil || db.Health.Status != apiv1.HealthHealthy {
				t.Errorf("db health = %+v, want HEALTHY", db.Health)
			}
			dbD := inspect(t, db.DockerID)
			app := inspect(t, h.Container(t, task, "app").DockerID)
			// db cannot be healthy before healthy-after's 2s have passed.
			if app.State.StartedAt.Sub(dbD.State.StartedAt) < 2*time.Second {
				t.Errorf("app started %s after db; a HEALTHY dependency needs at least 2s",
					app.State.StartedAt.Sub(dbD.State.StartedAt))
			}
		},
	}, {
		// late waits for gate to be healthy (2s): created at once, started
		// later. app needs late only CREATED, so it starts first.
		file: "create.json",
		def: h.Task("create",
			h.App("gate", "healthy-after", "2s").HealthCheckedByTestapp().NotEssential(),
			h.App("late", "sleep").After("gate", apiv1.ConditionHealthy).NotEssential(),
			h.App("app", "sleep").After("late", apiv1.ConditionCreate)),
		check: func(t *testing.T, task apiv1.Task) {
			if task.Status.KnownStatus != apiv1.StatusRunning {
				t.Fatalf("task not running: %s", h.Describe(task))
			}
			late := h.Container(t, task, "late")
			app := inspect(t, h.Container(t, task, "app").DockerID)
			if late.StartedAt != nil && !app.State.StartedAt.Before(late.StartedAt.Time) {
				t.Errorf("app started %s, not before late (%s): CREATE waits for creation only", app.State.StartedAt, late.StartedAt)
			}
			if late.DockerID == "" {
				t.Error("late has no container, yet app's CREATE condition on it was met")
			}
		},
	}, {
		// COMPLETE holds on any exit code, where SUCCESS needs 0.
		file: "complete.json",
		def: h.Task("complete",
			h.App("job", "exit", "3", "1s").NotEssential(),
			h.App("app", "sleep").After("job", apiv1.ConditionComplete)),
		check: func(t *testing.T, task apiv1.Task) { startedAfterExit(t, task, "job", 3) },
	}, {
		// never is never healthy: app gives up after its startTimeout of
		// 3s, and, being essential, stops the task.
		file: "start-timeout.json",
		def: h.Task("starttimeout",
			h.App("never", "healthy-after", "1h").HealthCheckedByTestapp().NotEssential(),
			h.App("app", "sleep").After("never", apiv1.ConditionHealthy).WithStartTimeout(3)),
		check: func(t *testing.T, task apiv1.Task) {
			if task.Status.KnownStatus != apiv1.StatusStopped {
				t.Fatalf("task not stopped: %s", h.Describe(task))
			}
			app := h.Container(t, task, "app")
			if !strings.Contains(app.Reason, "DependencyError: timed out after 3s waiting for container never to reach condition HEALTHY") {
				t.Errorf("app reason %q, want the start timeout's DependencyError", app.Reason)
			}
			if app.StartedAt != nil {
				t.Errorf("app started at %s although its dependency never became healthy", app.StartedAt)
			}
			if waited := app.FinishedAt.Sub(app.CreatedAt.Time); waited < 3*time.Second {
				t.Errorf("app gave up %s after it was created, before its 3s startTimeout", waited)
			}
		},
	}}
	for _, c := range cases {
		a.WriteTask(c.file, c.def.JSON())
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.file, ".json"), func(t *testing.T) {
			// Settled: stopped, or the dependent container is running.
			task := a.WaitTask(t, c.file, startTimeout+10*time.Second, func(task apiv1.Task) (bool, string) {
				app := task.Status.ContainerStatusFor("app")
				settled := task.Status.KnownStatus == apiv1.StatusStopped ||
					task.Status.KnownStatus == apiv1.StatusRunning && app != nil && app.KnownStatus == apiv1.StatusRunning
				return settled, h.Describe(task)
			})
			c.check(t, task)
		})
	}
}

// TestStopTimeoutIsPerContainer: stopping a task gives each container its
// own stopTimeout between SIGTERM and SIGKILL, and the agent's
// ECS_CONTAINER_STOP_TIMEOUT (2s here) to one without.
func TestStopTimeoutIsPerContainer(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{StopTimeout: 2 * time.Second})
	a.WriteTask("stop.json", h.Task("stoptimeout",
		h.App("main", "sleep"),
		h.App("patient", "ignore-term").NotEssential().WithStopTimeout(6),
		h.App("plain", "ignore-term").NotEssential(),
	).JSON())
	a.WaitTask(t, "stop.json", startTimeout, h.IsRunning)
	a.RemoveTask("stop.json")
	task := a.WaitTask(t, "stop.json", startTimeout, h.IsStopped)

	for _, tc := range []struct {
		name     string
		min, max time.Duration
	}{
		{"patient", 6 * time.Second, 6*time.Second + 3*time.Second},
		{"plain", 2 * time.Second, 2*time.Second + 3*time.Second},
	} {
		c := h.Container(t, task, tc.name)
		if c.ExitCode == nil || *c.ExitCode != 137 {
			t.Errorf("%s exit code %v, want 137 (SIGKILL after ignoring SIGTERM)", tc.name, c.ExitCode)
		}
		if c.StopRequestedAt == nil || c.FinishedAt == nil {
			t.Fatalf("%s: stop requested %v, finished %v", tc.name, c.StopRequestedAt, c.FinishedAt)
		}
		if took := c.FinishedAt.Sub(c.StopRequestedAt.Time); took < tc.min || took > tc.max {
			t.Errorf("%s was killed %s after SIGTERM, want between %s and %s", tc.name, took, tc.min, tc.max)
		}
	}
}

// TestRestartPolicyRestartsTheContainerInPlace: a container with a restart
// policy that exits after its restartAttemptPeriod (60 s, ECS's least) is
// started again in place, the same Docker container, and /v1/tasks counts
// the restart; one that exits with an ignored exit code is not, and, being
// essential, would stop the task: here it is not essential and just stays
// stopped. This test takes a little over a minute.
func TestRestartPolicyRestartsTheContainerInPlace(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	worker := h.App("worker", "exit", "3", "61s")
	worker.RestartPolicy = map[string]any{"enabled": true, "restartAttemptPeriod": 60}
	done := h.App("done", "exit", "5", "1s").NotEssential()
	done.RestartPolicy = map[string]any{"enabled": true, "ignoredExitCodes": []int{5}, "restartAttemptPeriod": 60}
	a.WriteTask("restart.json", h.Task("restart", worker, done, h.App("main", "sleep")).JSON())

	// "done" exits a second after it starts: wait for the task and the
	// worker to run, not for every container at once.
	first := a.WaitTask(t, "restart.json", startTimeout, func(task apiv1.Task) (bool, string) {
		w := task.Status.ContainerStatusFor("worker")
		return task.Status.KnownStatus == apiv1.StatusRunning && w != nil && w.KnownStatus == apiv1.StatusRunning, h.Describe(task)
	})
	workerID := h.Container(t, first, "worker").DockerID
	task := a.WaitTask(t, "restart.json", 61*time.Second+startTimeout, func(task apiv1.Task) (bool, string) {
		w := task.Status.ContainerStatusFor("worker")
		return w.RestartCount == 1 && w.KnownStatus == apiv1.StatusRunning, h.Describe(task)
	})
	if w := h.Container(t, task, "worker"); w.DockerID != workerID {
		t.Errorf("worker is container %s after its restart, want the same %s", w.DockerID, workerID)
	}
	if d := h.Container(t, task, "done"); d.KnownStatus != apiv1.StatusStopped || d.RestartCount != 0 || d.ExitCode == nil || *d.ExitCode != 5 {
		t.Errorf("done: %s, %d restarts, exit %v; want STOPPED, none, 5 (an ignored exit code)", d.KnownStatus, d.RestartCount, d.ExitCode)
	}
	if task.Status.KnownStatus != apiv1.StatusRunning {
		t.Errorf("task %s, want RUNNING throughout", task.Status.KnownStatus)
	}
	v1, err := a.V1Tasks()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]string{}
	for _, vt := range v1.Tasks {
		for _, c := range vt.Containers {
			counts[c.Name] = fmt.Sprint(deref(c.RestartCount))
		}
	}
	// main has no restart policy: the ECS agent leaves its RestartCount out.
	if want := map[string]string{"worker": "1", "done": "0", "main": "<nil>"}; fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("/v1/tasks RestartCount %v, want %v", counts, want)
	}
}

// startedAfterExit checks a running task whose app waited for prereq: prereq
// exited with code, and app runs, started after prereq finished.
func startedAfterExit(t *testing.T, task apiv1.Task, prereq string, code int32) {
	t.Helper()
	if task.Status.KnownStatus != apiv1.StatusRunning {
		t.Fatalf("task not running: %s", h.Describe(task))
	}
	p := h.Container(t, task, prereq)
	if p.ExitCode == nil || *p.ExitCode != code {
		t.Errorf("%s exit code = %v, want %d", prereq, p.ExitCode, code)
	}
	pd := inspect(t, p.DockerID)
	app := inspect(t, h.Container(t, task, "app").DockerID)
	if !app.State.Running || app.State.StartedAt.Before(pd.State.FinishedAt) {
		t.Errorf("app running=%v started %s; want running, started after %s finished (%s)",
			app.State.Running, app.State.StartedAt, prereq, pd.State.FinishedAt)
	}
}
