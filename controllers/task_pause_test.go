package controllers

import (
	"slices"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate/dockerfake"
	"github.com/ecs-agent/ecs-agent/internal/pause"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

func pauseOf(f *fixture, arn string) (dockerstate.Container, bool) {
	for _, dc := range f.docker.TaskContainers(arn) {
		if dc.ContainerName() == pause.ContainerName {
			return dc, true
		}
	}
	return dockerstate.Container{}, false
}

// TestTaskNamespacesAreHeldByAPauseContainer: with pidMode and ipcMode
// "task" the agent makes its pause image once, runs one pause container
// (shareable IPC, no network) before the task's containers, and creates
// them in its namespaces; the pause container is killed only after they
// stopped, and removed with them at cleanup. It never shows in the task's
// status.
func TestTaskNamespacesAreHeldByAPauseContainer(t *testing.T) {
	f := newFixture(t)
	f.r.Opts.CleanupWait = time.Minute
	f.addTask("t1", ctr("main"), ctr("side"))
	if _, err := store.Mutate(f.ctx, f.store, "t1", func(t *apiv1.Task) error {
		t.Spec.PidMode, t.Spec.IpcMode = "task", "task"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	task := f.settle("t1")
	if task.Status.KnownStatus != apiv1.StatusRunning || len(task.Status.Containers) != 2 {
		t.Fatalf("task %s with %d containers: %+v", task.Status.KnownStatus, len(task.Status.Containers), task.Status)
	}
	p, ok := pauseOf(f, task.Spec.Arn)
	if !ok || p.State != dockerstate.StateRunning {
		t.Fatalf("pause container %+v (found %v), want it running", p, ok)
	}
	if n := f.docker.Calls(dockerfake.ImportImage); n != 1 {
		t.Errorf("pause image imported %d times, want once", n)
	}
	cfg := f.docker.CreateConfig(p.ID)
	if cfg.Image != pause.Image || cfg.IpcMode != "shareable" || cfg.NetworkMode != apiv1.NetworkModeNone {
		t.Errorf("pause container created with image %q, ipc %q, network %q; want %s, shareable, none", cfg.Image, cfg.IpcMode, cfg.NetworkMode, pause.Image)
	}
	for _, cs := range task.Status.Containers {
		c := f.docker.CreateConfig(cs.DockerID)
		if want := "container:" + p.ID; c.PidMode != want || c.IpcMode != want {
			t.Errorf("%s: pid %q ipc %q, want both %s", cs.Name, c.PidMode, c.IpcMode, want)
		}
	}

	f.stopTask(t, "t1")
	task = f.settle("t1")
	if task.Status.KnownStatus != apiv1.StatusStopped {
		t.Fatalf("task %s after stop", task.Status.KnownStatus)
	}
	if sigs := f.docker.Signals(p.ID); !slices.Equal(sigs, []string{"SIGKILL"}) {
		t.Errorf("pause container got %q, want one SIGKILL after the task's containers stopped", sigs)
	}
	f.now = f.now.Add(2 * time.Minute)
	f.settle("t1")
	if _, ok := f.docker.Container(p.ID); ok {
		t.Error("pause container still there after cleanup")
	}

	// A second task reuses the image.
	f.addTask("t2", ctr("main"))
	if _, err := store.Mutate(f.ctx, f.store, "t2", func(t *apiv1.Task) error { t.Spec.PidMode = "task"; return nil }); err != nil {
		t.Fatal(err)
	}
	f.settle("t2")
	if n := f.docker.Calls(dockerfake.ImportImage); n != 1 {
		t.Errorf("pause image imported %d times for two tasks, want once", n)
	}
	if p2, _ := pauseOf(f, "arn:aws:ecs:local:000000000000:task/test/t2"); f.docker.CreateConfig(p2.ID).IpcMode != "" {
		t.Errorf("pidMode task alone made the pause container's IPC shareable")
	}
}

func (f *fixture) stopTask(t *testing.T, name string) {
	t.Helper()
	if _, err := store.Mutate(f.ctx, f.store, name, func(t *apiv1.Task) error {
		t.Spec.DesiredStatus = apiv1.StatusStopped
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
