package controllers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/taskcgroup"
)

// fakeCgroups records the task cgroups it is asked for.
type fakeCgroups struct {
	made    map[string]taskcgroup.Limits
	removed []string
	err     error
}

func (c *fakeCgroups) Ensure(_ context.Context, task string, l taskcgroup.Limits) (string, error) {
	if c.err != nil {
		return "", c.err
	}
	if c.made == nil {
		c.made = map[string]taskcgroup.Limits{}
	}
	c.made[task] = l
	return taskcgroup.Parent(task), nil
}

func (c *fakeCgroups) Remove(task string) error {
	c.removed = append(c.removed, task)
	return nil
}

func setTaskLimits(t *testing.T, f *fixture, name, cpu, memory string) {
	t.Helper()
	if _, err := store.Mutate(f.ctx, f.store, name, func(t *apiv1.Task) error {
		t.Spec.CPU, t.Spec.Memory = cpu, memory
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestTaskCPUAndMemoryPutTheContainersInTheTaskCgroup(t *testing.T) {
	f := newFixture(t)
	cg := &fakeCgroups{}
	f.r.Cgroups = cg
	f.addTask("t1", ctr("main"), ctr("side"))
	setTaskLimits(t, f, "t1", "512", "256")
	task := f.settle("t1")
	if task.Status.KnownStatus != apiv1.StatusRunning {
		t.Fatalf("task %s: %+v", task.Status.KnownStatus, task.Status)
	}
	if got := cg.made["t1"]; got != (taskcgroup.Limits{CPUUnits: 512, MemoryMiB: 256}) {
		t.Errorf("cgroup limits %+v, want 512 units and 256 MiB", got)
	}
	for _, cs := range task.Status.Containers {
		if p := f.docker.CreateConfig(cs.DockerID).CgroupParent; p != "/ecs/t1" {
			t.Errorf("container %s cgroup parent %q, want /ecs/t1", cs.Name, p)
		}
	}

	f.r.Opts.CleanupWait = 0
	f.docker.Exit(task.Status.ContainerStatusFor("main").DockerID, 0)
	f.settle("t1")
	f.now = f.now.Add(time.Second)
	f.settle("t1")
	if len(cg.removed) != 1 || cg.removed[0] != "t1" {
		t.Errorf("cgroups removed %q, want t1's once its containers are gone", cg.removed)
	}
}

func TestTaskWithoutLimitsOrWithEnforcementOffGetsNoTaskCgroup(t *testing.T) {
	f := newFixture(t)
	cg := &fakeCgroups{}
	f.r.Cgroups = cg
	f.addTask("free", ctr("main"))
	task := f.settle("free")
	if len(cg.made) != 0 || f.docker.CreateConfig(task.Status.ContainerStatusFor("main").DockerID).CgroupParent != "" {
		t.Errorf("a task without cpu or memory got a task cgroup: %+v", cg.made)
	}

	off := newFixture(t) // Cgroups nil: ECS_ENABLE_TASK_CPU_MEM_LIMIT=false
	off.addTask("t1", ctr("main"))
	setTaskLimits(t, off, "t1", "512", "")
	task = off.settle("t1")
	if p := off.docker.CreateConfig(task.Status.ContainerStatusFor("main").DockerID).CgroupParent; p != "" {
		t.Errorf("cgroup parent %q with enforcement off, want none", p)
	}
}

func TestTaskCgroupThatCannotBeMadeStopsTheTaskWithTheReason(t *testing.T) {
	f := newFixture(t)
	f.r.Cgroups = &fakeCgroups{err: errors.New("the Docker daemon uses the systemd cgroup driver")}
	f.addTask("t1", ctr("main"))
	setTaskLimits(t, f, "t1", "", "128")
	task := f.settle("t1")
	want := "CannotCreateContainerError: task cpu and memory cannot be enforced: the Docker daemon uses the systemd cgroup driver"
	if task.Status.KnownStatus != apiv1.StatusStopped || !strings.Contains(task.Status.StoppedReason, want) {
		t.Fatalf("task %s reason %q, want STOPPED with %q", task.Status.KnownStatus, task.Status.StoppedReason, want)
	}
}
