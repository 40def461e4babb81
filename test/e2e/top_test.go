package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// loadMiB is what the load task holds: `testapp load 32` touches 32 MiB
// and keeps a CPU busy.
const loadMiB = 32

// sampleTimeout is how long a started container may take to show a CPU
// figure: the sampler opens its stream at once, and the second sample (a
// second later) is the first with an interval.
const sampleTimeout = 30 * time.Second

// TestTopShowsTheLoadOfARunningTask runs `testapp load 32` as a static task
// and reads it as an operator would, through `ecs-agent top`, `top -o json`
// and /metrics with ECS_ENABLE_TASK_METRICS=true: the container uses CPU
// and at least the 32 MiB it holds, in each of the three.
func TestTopShowsTheLoadOfARunningTask(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{Env: []string{"ECS_ENABLE_TASK_METRICS=true"}})
	load := h.App("load", "load", strconv.Itoa(loadMiB))
	load.Memory = 128
	a.WriteTask("load.json", h.Task("top-load", load).JSON())
	task := a.WaitTask(t, "load.json", startTimeout, h.IsRunning)

	a.WaitFor(t, "top -o json to show the load container busy and holding its memory", sampleTimeout, func() (bool, string) {
		out, err := a.CLI("top", "-o", "json")
		if err != nil {
			return false, err.Error()
		}
		var list apiv1.TaskMetricsList
		if err := json.Unmarshal(out, &list); err != nil {
			return false, fmt.Sprintf("not a TaskMetricsList: %v: %s", err, out)
		}
		if len(list.Items) != 1 || list.Items[0].Name != task.Name || len(list.Items[0].Containers) != 1 {
			return false, string(out)
		}
		c := list.Items[0].Containers[0]
		return c.CPUPercent != nil && *c.CPUPercent > 0 && c.MemoryBytes != nil && *c.MemoryBytes >= loadMiB<<20 &&
			c.MemoryLimitBytes != nil && *c.MemoryLimitBytes == 128<<20, string(out)
	})

	out, err := a.CLI("top")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ecs-agent top:\n%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "TASK CONTAINER CPU(%) MEMORY(MIB)" {
		t.Fatalf("top printed %q, want a header and one row", out)
	}
	row := strings.Fields(lines[1])
	if len(row) != 4 || row[0] != task.Name || row[1] != "load" {
		t.Fatalf("row %q, want the task id, load, CPU and memory", lines[1])
	}
	if cpu, err := strconv.ParseFloat(row[2], 64); err != nil || cpu <= 0 {
		t.Errorf("CPU(%%) %q, want more than 0", row[2])
	}
	if mem, err := strconv.ParseFloat(row[3], 64); err != nil || mem < loadMiB {
		t.Errorf("MEMORY(MIB) %q, want at least %d", row[3], loadMiB)
	}

	labels := fmt.Sprintf(`{container="load",task_family="top-load",task_id=%q}`, task.Name)
	a.WaitFor(t, "/metrics to show the load container's gauges", sampleTimeout, func() (bool, string) {
		code, body := h.Get(&http.Client{Timeout: 5 * time.Second}, a.URL("/metrics"))
		if code != http.StatusOK {
			return false, fmt.Sprintf("%d %s", code, body)
		}
		cpu, okCPU := gauge(body, "ecs_agent_task_container_cpu_percent"+labels)
		mem, okMem := gauge(body, "ecs_agent_task_container_memory_bytes"+labels)
		dropped, okDropped := gauge(body, "ecs_agent_task_metrics_dropped_tasks")
		return okCPU && cpu > 0 && okMem && mem >= loadMiB<<20 && okDropped && dropped == 0,
			fmt.Sprintf("cpu %v %v, memory %v %v, dropped %v %v", cpu, okCPU, mem, okMem, dropped, okDropped)
	})

	// top's path is behind the Host check like the rest of the local API.
	req, _ := http.NewRequest(http.MethodGet, a.URL("/agent/v1/top"), nil)
	req.Host = "attacker.example:80"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("/agent/v1/top for Host attacker.example: %d, want 421", resp.StatusCode)
	}
}

// TestTaskMetricsAreOffByDefault: without ECS_ENABLE_TASK_METRICS the
// sampler still samples (top shows the task), but /metrics has no
// per-task series.
func TestTaskMetricsAreOffByDefault(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("idle.json", h.Task("top-idle", h.App("idle", "sleep")).JSON())
	task := a.WaitTask(t, "idle.json", startTimeout, h.IsRunning)
	a.WaitFor(t, "top to show the idle container's memory", sampleTimeout, func() (bool, string) {
		out, err := a.CLI("top", task.Name)
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(string(out), " idle ") && !strings.Contains(string(out), "<no sample>"), string(out)
	})
	code, body := h.Get(&http.Client{Timeout: 5 * time.Second}, a.URL("/metrics"))
	if code != http.StatusOK || !strings.Contains(body, "ecs_agent_tasks{") {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	if strings.Contains(body, "ecs_agent_task_container_") || strings.Contains(body, "ecs_agent_task_metrics_dropped") {
		t.Errorf("/metrics has per-task series without ECS_ENABLE_TASK_METRICS:\n%s", body)
	}
}

// TestTopSaysMetricsAreDisabled: with ECS_DISABLE_METRICS=true nothing is
// sampled, and top says so, naming the variable, rather than print zeros.
func TestTopSaysMetricsAreDisabled(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{Env: []string{"ECS_DISABLE_METRICS=true"}})
	out, err := a.CLI("top")
	if err == nil {
		t.Fatalf("top succeeded with metrics disabled:\n%s", out)
	}
	if !strings.Contains(err.Error(), "metrics are disabled on this agent (ECS_DISABLE_METRICS=true)") || len(out) != 0 {
		t.Errorf("top: %v, stdout %q; want the message naming ECS_DISABLE_METRICS and nothing printed", err, out)
	}
}

// gauge finds the value of one series, named with its labels as the text
// format writes them, in a /metrics body.
func gauge(body, series string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}
