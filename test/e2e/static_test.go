package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

func TestBadStaticFilesAreReportedWhileOtherTasksCarryOn(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("good.json", h.Task("good", h.App("app", "sleep")).JSON())
	good := a.WaitTask(t, "good.json", startTimeout, h.IsRunning)
	goodID := h.Container(t, good, "app").DockerID
	goodStarted := inspect(t, goodID).State.StartedAt

	badField := h.App("app", "sleep").Port(8080, 0)
	badField.PortMappings[0].Protocol = "bogus"
	cases := []struct {
		file, content string
		want          []string // in the stopped reason, besides the file's path
	}{
		{"broken.json", `{"family": "broken", "containerDefinitions": [`, []string{"JSON"}},
		{"badfield.json", h.Task("badfield", badField).JSON(), []string{"containerDefinitions[0].portMappings[0].protocol", "bogus"}},
	}
	for _, c := range cases {
		a.WriteTask(c.file, c.content)
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.file, ".json"), func(t *testing.T) {
			task := a.WaitTask(t, c.file, 15*time.Second, h.IsStopped)
			reason := task.Status.StoppedReason
			for _, w := range append([]string{a.TaskPath(c.file)}, c.want...) {
				if !strings.Contains(reason, w) {
					t.Errorf("stoppedReason %q does not mention %q", reason, w)
				}
			}
			ids, err := h.ContainerIDs(h.LabelTaskARN + "=" + task.Spec.Arn)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != 0 {
				t.Errorf("the invalid task has containers %v", ids)
			}
		})
	}

	tasks, err := a.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	after := h.TasksOf(tasks, "good.json")
	if len(after) != 1 || after[0].Name != good.Name {
		t.Fatalf("good.json has tasks %v, want only %s", after, good.Name)
	}
	if ok, why := h.IsRunning(after[0]); !ok {
		t.Errorf("good task disturbed by the bad files: %s", why)
	}
	if id := h.Container(t, after[0], "app").DockerID; id != goodID {
		t.Errorf("good task's container is %s, was %s", id, goodID)
	}
	if d := inspect(t, goodID); !d.State.Running || !d.State.StartedAt.Equal(goodStarted) {
		t.Errorf("good container running=%v started %s, want running since %s", d.State.Running, d.State.StartedAt, goodStarted)
	}
}

func TestRemovedStaticFileStopsItsTaskThenCleansItUp(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{CleanupWait: 3 * time.Second})
	a.WriteTask("gone.json", h.Task("gone", h.App("web", "sleep"), h.App("side", "sleep")).JSON())
	task := a.WaitTask(t, "gone.json", startTimeout, h.IsRunning)

	a.RemoveTask("gone.json")
	var stoppedAt time.Time
	a.WaitFor(t, "task "+task.Name+" STOPPED", 15*time.Second, func() (bool, string) {
		got, err := taskNamed(a, task.Name)
		if err != nil {
			return false, err.Error()
		}
		if got == nil {
			return false, "task is gone before anyone saw it STOPPED"
		}
		stoppedAt = time.Now()
		return got.Status.KnownStatus == apiv1.StatusStopped, h.Describe(*got)
	})
	a.WaitFor(t, "containers and task cleaned up", 20*time.Second, func() (bool, string) {
		for _, c := range task.Status.Containers {
			if _, exists, err := h.Inspect(c.DockerID); err != nil || exists {
				return false, fmt.Sprintf("container %s still exists (%v)", c.Name, err)
			}
		}
		got, err := taskNamed(a, task.Name)
		if err != nil || got != nil {
			return false, fmt.Sprintf("task still listed (%v)", err)
		}
		return true, ""
	})
	if took := time.Since(stoppedAt); took < 2*time.Second {
		t.Errorf("cleaned up %s after STOPPED, before ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=3s", took)
	}
}

// taskNamed returns the task called name, or nil when the agent has none.
func taskNamed(a *h.Agent, name string) (*apiv1.Task, error) {
	tasks, err := a.Tasks()
	if err != nil {
		return nil, err
	}
	for i := range tasks {
		if tasks[i].Name == name {
			return &tasks[i], nil
		}
	}
	return nil, nil
}

func TestChangedStaticFileReplacesItsTask(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("svc.json", h.Task("svc", h.App("app", "sleep")).JSON())
	v1 := a.WaitTask(t, "svc.json", startTimeout, h.IsRunning)

	a.WriteTask("svc.json", h.Task("svc", h.App("app", "serve", "8080")).JSON())
	v2 := a.WaitTask(t, "svc.json", startTimeout, func(task apiv1.Task) (bool, string) {
		if task.Name == v1.Name {
			return false, "still only the first task: " + h.Describe(task)
		}
		return h.IsRunning(task)
	})
	if v2.Spec.Revision <= v1.Spec.Revision {
		t.Errorf("new task has revision %d, old one %d; want a later revision", v2.Spec.Revision, v1.Spec.Revision)
	}
	a.WaitFor(t, "old task "+v1.Name+" STOPPED", 15*time.Second, func() (bool, string) {
		got, err := taskNamed(a, v1.Name)
		switch {
		case err != nil:
			return false, err.Error()
		case got == nil:
			return false, "old task is gone"
		}
		return h.IsStopped(*got)
	})
	if d := inspect(t, h.Container(t, v1, "app").DockerID); d.State.Running {
		t.Errorf("old task's container still running")
	}
	if d := inspect(t, h.Container(t, v2, "app").DockerID); !d.State.Running {
		t.Errorf("new task's container is %s, want running", d.State.Status)
	}
}

func TestStoppedStaticTaskStaysStoppedAcrossAgentRestart(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("oneshot.json", h.Task("oneshot", h.App("job", "exit", "0")).JSON())
	done := a.WaitTask(t, "oneshot.json", startTimeout, h.IsStopped)
	jobID := h.Container(t, done, "job").DockerID
	jobStarted := inspect(t, jobID).State.StartedAt

	if err := a.Stop(); err != nil {
		t.Errorf("agent exit after SIGTERM: %v", err)
	}
	a.Start()
	// A task started after the restart proves the static source and the
	// reconcilers have been through the unchanged file.
	a.WriteTask("after.json", h.Task("after", h.App("app", "sleep")).JSON())
	a.WaitTask(t, "after.json", startTimeout, h.IsRunning)

	tasks, err := a.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	mine := h.TasksOf(tasks, "oneshot.json")
	if len(mine) != 1 || mine[0].Name != done.Name || mine[0].Status.KnownStatus != apiv1.StatusStopped {
		var seen []string
		for _, m := range mine {
			seen = append(seen, h.Describe(m))
		}
		t.Errorf("oneshot.json after restart: %v; want only %s, STOPPED", seen, done.Name)
	}
	ids, err := h.ContainerIDs(h.LabelTaskARN + "=" + done.Spec.Arn)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != jobID {
		t.Errorf("containers of the stopped task: %v, want only %s", ids, jobID)
	}
	if d := inspect(t, jobID); d.State.Running || !d.State.StartedAt.Equal(jobStarted) {
		t.Errorf("job running=%v started %s; want it left exited, started once at %s", d.State.Running, d.State.StartedAt, jobStarted)
	}
}
