package e2e

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// containerFacts is what must survive an agent restart untouched.
type containerFacts struct {
	id        string
	startedAt time.Time
	ports     string
}

func factsOf(t *testing.T, task apiv1.Task) map[string]containerFacts {
	t.Helper()
	out := map[string]containerFacts{}
	for _, c := range task.Status.Containers {
		d := inspect(t, c.DockerID)
		out[c.Name] = containerFacts{id: c.DockerID, startedAt: d.State.StartedAt, ports: fmt.Sprint(c.Ports)}
	}
	return out
}

func clusterIDs(t *testing.T, a *h.Agent) []string {
	t.Helper()
	ids, err := h.ClusterContainerIDs(a.Cluster)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(ids)
	return ids
}

func TestKilledAgentAdoptsRunningTasksOnRestart(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("svc.json", h.Task("svc",
		h.App("web", "serve", "8080").Port(8080, 0),
		h.App("side", "sleep"),
	).JSON())
	before := a.WaitTask(t, "svc.json", startTimeout, h.IsRunning)
	facts := factsOf(t, before)
	idsBefore := clusterIDs(t, a)

	a.Kill()
	a.Start()
	checkAdopted(t, a, "svc.json", before, facts, idsBefore)
}

// checkAdopted checks that a restarted agent adopted the task of the static
// file as it was: same task, same containers, never restarted, and no
// container in the cluster but the old ones and those of a task started
// after the restart (which proves the new agent has been through its
// start-up reconcile of the old one).
func checkAdopted(t *testing.T, a *h.Agent, file string, before apiv1.Task, facts map[string]containerFacts, idsBefore []string) {
	t.Helper()
	a.WriteTask("after.json", h.Task("after", h.App("app", "sleep")).JSON())
	newTask := a.WaitTask(t, "after.json", startTimeout, h.IsRunning)
	after := a.WaitTask(t, file, 10*time.Second, h.IsRunning)

	if after.Name != before.Name {
		t.Errorf("task of %s is %s after the restart, was %s", file, after.Name, before.Name)
	}
	if got := factsOf(t, after); !maps.Equal(got, facts) {
		t.Errorf("containers changed across the restart:\nbefore %+v\nafter  %+v", facts, got)
	}
	for _, c := range after.Status.Containers {
		if c.RestartCount != 0 {
			t.Errorf("container %s restarted %d times", c.Name, c.RestartCount)
		}
	}
	want := append(slices.Clone(idsBefore), h.Container(t, newTask, "app").DockerID)
	sort.Strings(want)
	if got := clusterIDs(t, a); !slices.Equal(got, want) {
		t.Errorf("cluster containers after restart = %v, want the old ones plus the new task's: %v", got, want)
	}
}

func TestAgentKilledWhileStartingNeverDuplicatesContainers(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("chain.json", h.Task("chain",
		h.App("a", "sleep"),
		h.App("b", "sleep").After("a", apiv1.ConditionStart),
		h.App("c", "sleep").After("b", apiv1.ConditionStart),
	).JSON())
	// Kill as soon as the first container exists: mid-way through the task.
	a.WaitFor(t, "a first container", startTimeout, func() (bool, string) {
		ids, err := h.ClusterContainerIDs(a.Cluster)
		return err == nil && len(ids) > 0, fmt.Sprint(ids, err)
	})
	a.Kill()
	a.Start()

	task := a.WaitTask(t, "chain.json", startTimeout, h.IsRunning)
	ids := clusterIDs(t, a)
	if len(ids) != 3 {
		t.Errorf("%d containers in the cluster after kill -9 mid-start, want 3: %v", len(ids), ids)
	}
	for _, c := range task.Status.Containers {
		if !slices.Contains(ids, c.DockerID) {
			t.Errorf("container %s has docker id %s, not among the cluster's %v", c.Name, c.DockerID, ids)
		}
	}
}

func TestGetTasksReadsTheStoreWhileTheAgentIsStopped(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	files := []string{"one.json", "two.json"}
	for _, f := range files {
		a.WriteTask(f, h.Task("keep"+f[:3], h.App("app", "sleep")).JSON())
	}
	running := map[string]apiv1.Task{}
	for _, f := range files {
		running[f] = a.WaitTask(t, f, startTimeout, h.IsRunning)
	}

	if err := a.Stop(); err != nil {
		t.Errorf("agent exit after SIGTERM: %v, want status 0", err)
	}
	list, err := a.TaskList()
	if err != nil {
		t.Fatalf("get tasks with the agent stopped: %v", err)
	}
	if list.APIVersion != "agent.ecs.local/v1" || list.Kind != "TaskList" {
		t.Errorf("get tasks -o json: apiVersion %q kind %q, want agent.ecs.local/v1 TaskList", list.APIVersion, list.Kind)
	}
	for _, f := range files {
		mine := h.TasksOf(list.Items, f)
		if len(mine) != 1 {
			t.Errorf("%d tasks of %s with the agent stopped, want 1", len(mine), f)
			continue
		}
		if ok, why := h.IsRunning(mine[0]); !ok {
			t.Errorf("stored task of %s: %s, want RUNNING as it was", f, why)
		}
		id := h.Container(t, running[f], "app").DockerID
		if got := h.Container(t, mine[0], "app").DockerID; got != id {
			t.Errorf("stored docker id of %s = %s, want %s", f, got, id)
		}
		if d := inspect(t, id); !d.State.Running {
			t.Errorf("container of %s is %s after the agent's SIGTERM, want running", f, d.State.Status)
		}
	}
}
