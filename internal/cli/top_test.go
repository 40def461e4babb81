package cli

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/introspection"
)

// fakeStats holds a sample for some containers, as the sampler holds one
// for each running container.
type fakeStats map[string]dockerstate.StatsSample

func (f fakeStats) Sample(id string) (dockerstate.StatsSample, bool) {
	sm, ok := f[id]
	return sm, ok
}

// samplingAgent serves the introspection API over a filled store, with
// the web container sampled; stats nil is an agent run with
// ECS_DISABLE_METRICS=true.
func samplingAgent(t *testing.T, stats introspection.Stats) (string, int) {
	t.Helper()
	dir, s := filledStore(t)
	srv := introspection.New(introspection.Options{Store: s, Stats: stats})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.CloseWatches(); ts.Close(); _ = s.Close() })
	u, _ := url.Parse(ts.URL)
	port, _ := strconv.Atoi(u.Port())
	return dir, port
}

func webSampled() fakeStats {
	return fakeStats{webID: {Read: time.Now(), CPUPercent: 12.3456, HasCPU: true, MemoryBytes: 40<<20 + 300<<10, HasMemory: true}}
}

// TestTopPrintsATableAsKubectlTopDoes: one row per container of each task
// not yet stopped, CPU with two decimals as docker stats shows it, MiB
// with one; a container with no sample says so instead of showing zeros.
func TestTopPrintsATableAsKubectlTopDoes(t *testing.T) {
	dir, port := samplingAgent(t, webSampled())
	out, errOut, err := run(t, dir, port, "top")
	if err != nil {
		t.Fatalf("top: %v (stderr %s)", err, errOut)
	}
	want := "" +
		"TASK                               CONTAINER   CPU(%)        MEMORY(MIB)\n" +
		"0123456789abcdef0123456789abcdef   web         12.35         40.3\n" +
		"0123456789abcdef0123456789abcdef   init        <no sample>   <no sample>\n"
	if out != want {
		t.Errorf("top printed\n%s\nwant\n%s", out, want)
	}

	out, errOut, err = run(t, dir, port, "top", "-o", "wide")
	if err != nil {
		t.Fatalf("top -o wide: %v (stderr %s)", err, errOut)
	}
	checkOutput(t, out, []string{"LIMIT(MIB)", "FAMILY:REV", "STATUS", "DOCKER-ID", "web:3", "RUNNING", "aaaaaaaaaaaa\n", "STOPPED", "cccccccccccc", "<none>"}, []string{webID})
}

func TestTopJSONAndYAMLAreTheAgentAPIsTaskMetrics(t *testing.T) {
	dir, port := samplingAgent(t, webSampled())
	out, errOut, err := run(t, dir, port, "top", "-o", "json")
	if err != nil {
		t.Fatalf("top -o json: %v (stderr %s)", err, errOut)
	}
	var list apiv1.TaskMetricsList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("stdout is not a TaskMetricsList: %v\n%s", err, out)
	}
	if list.Kind != "TaskMetricsList" || len(list.Items) != 1 || list.Items[0].Arn != webArn {
		t.Fatalf("got %s with %d items: %s", list.Kind, len(list.Items), out)
	}
	if c := list.Items[0].Containers[0]; c.Name != "web" || ptr.Deref(c.CPUPercent, 0) != 12.3456 || ptr.Deref(c.MemoryBytes, 0) != 40<<20+300<<10 {
		t.Errorf("web container: %+v", c)
	}
	if c := list.Items[0].Containers[1]; c.Name != "init" || c.SampledAt != nil || c.CPUPercent != nil {
		t.Errorf("init container should have no sample: %+v", c)
	}

	out, _, err = run(t, dir, port, "top", "-o", "yaml")
	if err != nil {
		t.Fatalf("top -o yaml: %v", err)
	}
	checkOutput(t, out, []string{"kind: TaskMetricsList", "apiVersion: agent.ecs.local/v1", "cpuPercent: 12.3456", "name: init"}, nil)
}

// TestTopNamesTasksAsGetDoes: by id, ARN or id prefix; a stopped task is
// not found, with a hint.
func TestTopNamesTasksAsGetDoes(t *testing.T) {
	dir, port := samplingAgent(t, webSampled())
	for _, name := range []string{webTask, webArn, "0123"} {
		out, errOut, err := run(t, dir, port, "top", name)
		if err != nil || !strings.Contains(out, webTask) {
			t.Errorf("top %s: %v %s\n%s", name, err, errOut, out)
		}
	}
	_, _, err := run(t, dir, port, "top", batchTask)
	if err == nil || !strings.Contains(err.Error(), `Task "`+batchTask+`" not found`) || !strings.Contains(err.Error(), "not yet stopped") {
		t.Errorf("top of a stopped task: %v, want not found with the reason", err)
	}
}

func TestTopSaysWhatItCannotShow(t *testing.T) {
	dir, port := samplingAgent(t, nil)
	for _, tc := range []struct {
		name string
		port int
		args []string
		want []string
	}{
		{"metrics disabled", port, nil, []string{introspection.MetricsDisabledMessage}},
		{"no agent", silentPort(t), nil, []string{"no agent answers on 127.0.0.1:", "needs the agent"}},
		{"bad output", port, []string{"-o", "jsn"}, []string{`unknown output format "jsn"`}},
		{"bad sort", port, []string{"--sort-by", "disk"}, []string{`unknown --sort-by "disk"`, "cpu or memory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := run(t, dir, tc.port, append([]string{"top"}, tc.args...)...)
			if err == nil {
				t.Fatalf("top succeeded:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.name == "metrics disabled" && err.Error() != introspection.MetricsDisabledMessage {
				t.Errorf("error %q, want the agent's message alone", err)
			}
		})
	}
}

func TestSortTopPutsTheBusiestTaskFirst(t *testing.T) {
	task := func(name string, cpu float64, mem int64) apiv1.TaskMetrics {
		m := apiv1.TaskMetrics{Containers: []apiv1.ContainerMetrics{
			{CPUPercent: ptr.To(cpu), MemoryBytes: ptr.To(mem)},
			{}, // no sample: counts as nothing
		}}
		m.Name = name
		return m
	}
	items := []apiv1.TaskMetrics{task("a", 1, 300), task("b", 50, 100), task("c", 5, 200)}
	order := func() string {
		var names []string
		for _, m := range items {
			names = append(names, m.Name)
		}
		return strings.Join(names, ",")
	}
	sortTop(items, "")
	if got := order(); got != "a,b,c" {
		t.Errorf("no --sort-by: %s, want the agent's order", got)
	}
	sortTop(items, "cpu")
	if got := order(); got != "b,c,a" {
		t.Errorf("--sort-by cpu: %s", got)
	}
	sortTop(items, "memory")
	if got := order(); got != "a,c,b" {
		t.Errorf("--sort-by memory: %s", got)
	}
}
