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
	task = a.WaitTask(t, "victim.json", 15*time.Second, h.IsStopped)
	t.Logf("task stopped %s after docker rm -f: %s", time.Since(removedAt).Round(time.Millisecond), h.Describe(task))

	app := h.Container(t, task, "app")
	if app.KnownStatus != apiv1.StatusStopped {
		t.Errorf("app is %s, want STOPPED", app.KnownStatus)
	}
	if why := app.Reason + " " + task.Status.StoppedReason; !strings.Contains(why, "removed") {
		t.Errorf("container reason %q, task reason %q: want one to say the container was removed",
			app.Reason, task.Status.StoppedReason)
	}
	if ids := clusterIDs(t, a); len(ids) != 0 {
		t.Errorf("agent made containers %v after the removal; a stopped task must not be restarted", ids)
	}
}
