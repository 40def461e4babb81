package introspection

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// fakeStats holds a sample for some containers, as the sampler holds one
// for each running container.
type fakeStats map[string]dockerstate.StatsSample

func (f fakeStats) Sample(id string) (dockerstate.StatsSample, bool) {
	sm, ok := f[id]
	return sm, ok
}

// sampleTime is a recent sample's read time, to the microsecond the JSON
// keeps: a sample older than dockerstate.StatsStale is shown as none.
func sampleTime() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// fixtureStats: the web container has a full sample, the side container
// only its first (memory, no CPU interval yet); the stopped task's
// container has none. Both were read at read.
func fixtureStats(read time.Time) fakeStats {
	return fakeStats{
		webID:  {Read: read, CPUPercent: 12.5, HasCPU: true, MemoryBytes: 40 << 20, HasMemory: true},
		sideID: {Read: read, MemoryBytes: 3 << 20, HasMemory: true},
	}
}

func TestTopShowsTheLatestSampleOfEachContainerOfTasksNotStopped(t *testing.T) {
	s := fixture(t)
	create(t, s, &apiv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "11112222333344445555666677778888"},
		Spec: apiv1.TaskSpec{Arn: "arn:aws:ecs:local:000000000000:task/default/11112222333344445555666677778888",
			Family: "pending", Revision: 1, DesiredStatus: apiv1.StatusRunning, Memory: "1 GB",
			Containers: []apiv1.ContainerSpec{{Name: "app", Image: "busybox", Memory: ptr.To[int64](64)}}},
	})
	read := sampleTime()
	ts := serve(t, Options{Store: s, Stats: fixtureStats(read)})
	list, body := getTop(t, ts.URL)
	if list.APIVersion != "agent.ecs.local/v1" || list.Kind != "TaskMetricsList" {
		t.Errorf("apiVersion/kind %s/%s, want agent.ecs.local/v1 TaskMetricsList", list.APIVersion, list.Kind)
	}
	if len(list.Items) != 2 {
		t.Fatalf("%d tasks, want the running one and the pending one (not the stopped one): %s", len(list.Items), body)
	}
	web, pending := list.Items[0], list.Items[1]
	if web.Kind != "TaskMetrics" || web.Arn != webArn || web.Family != "web" || web.Revision != 3 || web.KnownStatus != apiv1.StatusRunning {
		t.Errorf("web task: %+v", web)
	}
	if len(web.Containers) != 2 {
		t.Fatalf("web containers: %+v", web.Containers)
	}
	w, side := web.Containers[0], web.Containers[1]
	if w.Name != "web" || w.DockerID != webID || w.SampledAt == nil || !w.SampledAt.Time.Equal(read) ||
		ptr.Deref(w.CPUPercent, -1) != 12.5 || ptr.Deref(w.MemoryBytes, -1) != 40<<20 || w.MemoryLimitBytes != nil {
		t.Errorf("web container: %s", mustJSON(t, w))
	}
	if side.SampledAt == nil || side.CPUPercent != nil || ptr.Deref(side.MemoryBytes, -1) != 3<<20 {
		t.Errorf("side container's first sample should have memory and no CPU: %s", mustJSON(t, side))
	}
	if pending.Name != "11112222333344445555666677778888" || pending.KnownStatus != apiv1.StatusNone ||
		ptr.Deref(pending.MemoryLimitBytes, -1) != 1024<<20 || len(pending.Containers) != 1 {
		t.Fatalf("pending task: %s", mustJSON(t, pending))
	}
	if c := pending.Containers[0]; c.SampledAt != nil || c.CPUPercent != nil || c.MemoryBytes != nil || c.KnownStatus != apiv1.StatusNone ||
		ptr.Deref(c.MemoryLimitBytes, -1) != 64<<20 {
		t.Errorf("a container not started yet has no sample, and its limit: %s", mustJSON(t, c))
	}
	if !strings.Contains(string(body), `"cpuPercent":12.5`) || strings.Contains(string(body), `"cpuPercent":0`) {
		t.Errorf("CPU should appear only where it was sampled: %s", body)
	}
}

// TestTopAndMetricsShowAStaleSampleAsNone: a sample older than
// dockerstate.StatsStale is the use before its stream stopped (the daemon
// restarting, a stream gone silent), not now. top shows no figures for it
// and /metrics has no series, a gap rather than a flat line at old values.
func TestTopAndMetricsShowAStaleSampleAsNone(t *testing.T) {
	stale := fixtureStats(time.Now().Add(-dockerstate.StatsStale - time.Second))
	ts := serve(t, Options{Store: fixture(t), Stats: stale, TaskMetrics: true})
	list, body := getTop(t, ts.URL)
	if len(list.Items) == 0 || len(list.Items[0].Containers) == 0 || list.Items[0].Containers[0].DockerID != webID {
		t.Fatalf("want the web task with its containers: %s", body)
	}
	for _, task := range list.Items {
		for _, c := range task.Containers {
			if c.SampledAt != nil || c.CPUPercent != nil || c.MemoryBytes != nil {
				t.Errorf("task %s container %s shows a stale sample: %s", task.Family, c.Name, mustJSON(t, c))
			}
		}
	}
	if _, body := get(t, ts.URL+MetricsPath); strings.Contains(string(body), "ecs_agent_task_container_") {
		t.Errorf("/metrics has series from stale samples:\n%s", body)
	}
}

// getTop GETs TopPath and decodes its answer, which must be 200.
func getTop(t *testing.T, base string) (apiv1.TaskMetricsList, []byte) {
	t.Helper()
	code, body := get(t, base+TopPath)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d %s", TopPath, code, body)
	}
	var list apiv1.TaskMetricsList
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return list, body
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// With ECS_DISABLE_METRICS=true the agent has no sampler: top must say
// so, not answer zeros or an empty list that reads as "no tasks".
func TestTopSaysMetricsAreDisabledWithoutASampler(t *testing.T) {
	ts := serve(t, Options{Store: fixture(t)})
	code, body := get(t, ts.URL+TopPath)
	var status Status
	if err := json.Unmarshal(body, &status); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if code != http.StatusNotFound || status.Message != MetricsDisabledMessage || !strings.Contains(status.Message, "ECS_DISABLE_METRICS=true") {
		t.Errorf("got %d %s, want 404 naming ECS_DISABLE_METRICS", code, body)
	}
	// The other resources are still served beside the literal path.
	if code, body := get(t, ts.URL+AgentAPIPrefix+"tasks"); code != http.StatusOK {
		t.Errorf("tasks beside top: %d %s", code, body)
	}
}

func TestTaskMetricsAreOnlyOnMetricsWithTheSetting(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("ECS_ENABLE_TASK_METRICS=%v", on), func(t *testing.T) {
			ts := serve(t, Options{Store: fixture(t), Stats: fixtureStats(sampleTime()), TaskMetrics: on})
			_, body := get(t, ts.URL+MetricsPath)
			for _, line := range []string{
				`ecs_agent_task_container_cpu_percent{container="web",task_family="web",task_id="0123456789abcdef0123456789abcdef"} 12.5`,
				`ecs_agent_task_container_memory_bytes{container="web",task_family="web",task_id="0123456789abcdef0123456789abcdef"} 4.194304e+07`,
				`ecs_agent_task_container_memory_bytes{container="side",task_family="web",task_id="0123456789abcdef0123456789abcdef"} 3.145728e+06`,
				`ecs_agent_task_metrics_dropped_tasks 0`,
			} {
				if strings.Contains(string(body), line) != on {
					t.Errorf("/metrics has %s: %v, want %v", line, !on, on)
				}
			}
			if on && strings.Contains(string(body), `task_container_cpu_percent{container="side"`) {
				t.Errorf("a first sample has no CPU figure, so no CPU gauge:\n%s", body)
			}
			if strings.Contains(string(body), `task_family="batch"`) {
				t.Errorf("the stopped task has gauges:\n%s", body)
			}
		})
	}
}

// TestTaskMetricsAreBounded: past the caps, the oldest tasks and each
// task's first containers keep their gauges, and the rest are counted.
func TestTaskMetricsAreBounded(t *testing.T) {
	s := openStore(t)
	stats, read := fakeStats{}, sampleTime()
	for i := range 5 {
		task := &apiv1.Task{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("task%d", i)},
			Spec:       apiv1.TaskSpec{Family: "many", DesiredStatus: apiv1.StatusRunning},
			Status:     apiv1.TaskStatus{KnownStatus: apiv1.StatusRunning},
		}
		for j := range 3 {
			name, id := fmt.Sprintf("c%d", j), fmt.Sprintf("docker-%d-%d", i, j)
			task.Spec.Containers = append(task.Spec.Containers, apiv1.ContainerSpec{Name: name})
			task.Status.Containers = append(task.Status.Containers, apiv1.ContainerStatus{Name: name, DockerID: id, KnownStatus: apiv1.StatusRunning})
			stats[id] = dockerstate.StatsSample{Read: read, CPUPercent: 1, HasCPU: true, MemoryBytes: 1 << 20, HasMemory: true}
		}
		create(t, s, task)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(&taskUsageCollector{store: s, stats: stats, maxTasks: 3, maxContainers: 2})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series, values := 0, map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			series++
			values[f.GetName()] = m.GetGauge().GetValue()
			// Equal creation times (the store stamps whole seconds) fall
			// back to the id, so task0..task2 keep theirs, scrape after
			// scrape.
			for _, l := range m.GetLabel() {
				if v := l.GetValue(); v == "task3" || v == "task4" || v == "c2" {
					t.Errorf("%s{%s=%q} is past the cap", f.GetName(), l.GetName(), v)
				}
			}
		}
	}
	// 3 tasks × 2 containers × 2 gauges, and the two counts.
	if series != 3*2*2+2 {
		t.Errorf("%d series, want %d", series, 3*2*2+2)
	}
	if values["ecs_agent_task_metrics_dropped_tasks"] != 2 || values["ecs_agent_task_metrics_dropped_containers"] != 3 {
		t.Errorf("dropped tasks %v, containers %v; want 2 and 3 (the third container of each task shown)",
			values["ecs_agent_task_metrics_dropped_tasks"], values["ecs_agent_task_metrics_dropped_containers"])
	}
	if problems, err := promlint.NewWithMetricFamilies(families).Lint(); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
}
