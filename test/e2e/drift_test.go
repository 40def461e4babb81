package e2e

import (
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

func TestContainerRemovedBehindTheAgentsBackStopsTheTask(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("victim.json", h.Task("victim", h.App("app", "sleep")).JSON())
	task := a.WaitTask(t, "victim.json", startTimeout, h.IsRunning)
	id := h.Container(t, task, "app").DockerID

	if err := h.RemoveContainer(id); err != nil {
		t.Fatal(err)
	}
	removedAt := time.Now()
	// docker rm -f kills first, so the agent may see an exit (137) before
	// the removal; either way the removal must end up in the status.
	task = a.WaitTask(t, "victim.json", 15*time.Second, stoppedByRemoval)
	t.Logf("task stopped %s after docker rm -f: %s", time.Since(removedAt).Round(time.Millisecond), h.Describe(task))
	if app := h.Container(t, task, "app"); app.KnownStatus != apiv1.StatusStopped {
		t.Errorf("app is %s, want STOPPED", app.KnownStatus)
	}
	if ids := clusterIDs(t, a); len(ids) != 0 {
		t.Errorf("agent made containers %v after the removal; a stopped task must not be restarted", ids)
	}
}

func TestContainerRemovedWhileTheAgentWasDownStopsTheTask(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("victim.json", h.Task("victim", h.App("app", "sleep")).JSON())
	task := a.WaitTask(t, "victim.json", startTimeout, h.IsRunning)

	a.Kill()
	if err := h.RemoveContainer(h.Container(t, task, "app").DockerID); err != nil {
		t.Fatal(err)
	}
	a.Start()
	task = a.WaitTask(t, "victim.json", 15*time.Second, stoppedByRemoval)
	if ids := clusterIDs(t, a); len(ids) != 0 {
		t.Errorf("agent made containers %v after the removal; a stopped task must not be restarted", ids)
	}
}

// stoppedByRemoval is a task STOPPED whose app container's reason or
// stopped reason says it was removed.
func stoppedByRemoval(task apiv1.Task) (bool, string) {
	app := task.Status.ContainerStatusFor("app")
	removed := app != nil && strings.Contains(app.Reason+" "+task.Status.StoppedReason, "removed")
	return task.Status.KnownStatus == apiv1.StatusStopped && removed, h.Describe(task)
}
