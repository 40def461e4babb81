package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// TestTaskCPUAndMemoryLimitTheTaskCgroup: a task with task-level cpu and
// memory runs its containers in one cgroup, /ecs/<task id>, whose CFS quota
// is the cpu (256 units: a quarter of a CPU) and whose memory limit is the
// memory, as the ECS agent does with ECS_ENABLE_TASK_CPU_MEM_LIMIT (on by
// default). The cgroup goes with the task's containers at cleanup.
func TestTaskCPUAndMemoryLimitTheTaskCgroup(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{CleanupWait: 2 * time.Second})
	a.WriteTask("limits.json", fmt.Sprintf(`{
  "family": "limits", "cpu": "256", "memory": "128",
  "containerDefinitions": [
    {"name": "app", "image": %[1]q, "command": ["sleep"]},
    {"name": "side", "image": %[1]q, "command": ["sleep"], "essential": false}
  ]
}`, h.TestImage))
	task := a.WaitTask(t, "limits.json", startTimeout, h.IsRunning)
	cpuDir := filepath.Join("/sys/fs/cgroup/cpu/ecs", task.Name)
	memDir := filepath.Join("/sys/fs/cgroup/memory/ecs", task.Name)
	t.Cleanup(func() {
		dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup/*/ecs", task.Name))
		for _, d := range dirs {
			_ = os.Remove(d)
		}
	})

	for file, want := range map[string]string{
		filepath.Join(cpuDir, "cpu.cfs_quota_us"):      "25000",
		filepath.Join(cpuDir, "cpu.cfs_period_us"):     "100000",
		filepath.Join(memDir, "memory.limit_in_bytes"): fmt.Sprint(128 << 20),
	} {
		if got := strings.TrimSpace(readFile(t, file)); got != want {
			t.Errorf("%s = %s, want %s", file, got, want)
		}
	}
	for _, name := range []string{"app", "side"} {
		id := h.Container(t, task, name).DockerID
		hc := inspectSettings(t, id).HostConfig
		if want := "/ecs/" + task.Name; hc.CgroupParent != want {
			t.Errorf("%s cgroup parent %q, want %s", name, hc.CgroupParent, want)
		}
		cg := inContainer(t, id, "/proc/self/cgroup")
		if want := fmt.Sprintf(":memory:/ecs/%s/%s", task.Name, id); !strings.Contains(cg, want) {
			t.Errorf("%s runs in cgroups\n%s\nwant the memory cgroup /ecs/%s/<its id>", name, cg, task.Name)
		}
	}

	a.RemoveTask("limits.json")
	a.WaitFor(t, "the task's cleanup", startTimeout, func() (bool, string) {
		tasks, err := a.Tasks()
		if err != nil || len(h.TasksOf(tasks, "limits.json")) > 0 {
			return false, fmt.Sprintf("task still there (%v)", err)
		}
		return true, ""
	})
	for _, d := range []string{cpuDir, memDir} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("task cgroup %s still there after cleanup (%v)", d, err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
