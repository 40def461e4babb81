package e2e

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	"github.com/ecs-agent/ecs-agent/internal/tcs"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// metricsCycle is one publish cycle as the fake's TCS took it: its
// requests (one messageId), when the first arrived, and the metrics of
// each task in it.
type metricsCycle struct {
	id    string
	at    time.Time
	tasks map[string]tcs.TaskMetric
}

// metricsCycles groups the fake's metrics records by cycle, in order.
func metricsCycles(st fakeecs.TCSState) []*metricsCycle {
	var out []*metricsCycle
	byID := map[string]*metricsCycle{}
	for _, r := range st.Records {
		if r.Metrics == nil {
			continue
		}
		c := byID[r.Metrics.Metadata.MessageID]
		if c == nil {
			c = &metricsCycle{id: r.Metrics.Metadata.MessageID, at: r.Time, tasks: map[string]tcs.TaskMetric{}}
			byID[c.id] = c
			out = append(out, c)
		}
		for _, t := range r.Metrics.TaskMetrics {
			c.tasks[t.TaskArn] = t
		}
	}
	return out
}

func mean(s *tcs.StatsSet) float64 { return s.Sum / float64(s.SampleCount) }

func TestTCSGetsEveryRunningTasksMetricsEvery20sMatchingDockerStats(t *testing.T) {
	t.Parallel()
	e := h.StartECSWithACS(t)
	a := e.StartAgent(t, h.Options{Env: []string{noPolls}})
	a.WaitSession(t, sessionTimeout)
	// A known load: 64 MiB held, and a busy loop held to half a CPU by
	// the task's CPU quota (cpu 512).
	burn := h.App("burn", "load", "64")
	burn.Memory = 128
	load := h.Task("load", burn)
	load.CPU = "512"
	arns := []string{a.RunTask(load), a.RunTask(h.Task("idle", h.App("app", "sleep"))), a.RunTask(h.Task("pair", h.App("a", "sleep"), h.App("b", "sleep")))}
	var burnID string
	for i, arn := range arns {
		task := a.WaitECSTask(t, arn, startTimeout, h.IsRunning)
		if i == 0 {
			burnID = task.Status.ContainerStatusFor("burn").DockerID
		}
	}
	running := time.Now()

	// docker stats of the loaded container, all along, to compare with
	// what TCS gets over the same windows.
	var mu sync.Mutex
	var readings []h.DockerStats
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if s, err := h.Stats(burnID); err == nil {
				mu.Lock()
				readings = append(readings, s)
				mu.Unlock()
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	// Four full cycles after every task ran: a minute and more.
	var cycles []*metricsCycle
	a.WaitFor(t, "four metrics cycles with every task, after all ran", 100*time.Second, func() (bool, string) {
		cycles = nil
		for _, c := range metricsCycles(e.TCS()) {
			if c.at.After(running) {
				cycles = append(cycles, c)
			}
		}
		full := 0
		for _, c := range cycles {
			if len(c.tasks) == len(arns) {
				full++
			}
		}
		return full >= 4, fmt.Sprintf("%d cycles since all ran, %d with every task", len(cycles), full)
	})
	if v := e.TCS().Violations; len(v) > 0 {
		t.Errorf("TCS rules broken: %q", v)
	}
	for i := 1; i < len(cycles); i++ {
		if d := cycles[i].at.Sub(cycles[i-1].at); d < 18*time.Second || d > 22*time.Second {
			t.Errorf("cycle %d came %v after the one before; want 20 s ± 2 s", i, d.Round(time.Millisecond))
		}
	}
	// The first cycle may come before a task's first samples; every later
	// one has each task, each container.
	for i, c := range cycles[1:] {
		for _, arn := range arns {
			m, ok := c.tasks[arn]
			if !ok {
				t.Errorf("cycle %d (%s) lacks task %s", i+1, c.id, arn)
				continue
			}
			if want := map[string]int{arns[0]: 1, arns[1]: 1, arns[2]: 2}[arn]; len(m.ContainerMetrics) != want {
				t.Errorf("cycle %d: task %s has %d containers' metrics; want %d", i+1, m.TaskDefinitionFamily, len(m.ContainerMetrics), want)
			}
		}
	}

	// The loaded container: TCS's mean over a cycle against docker
	// stats' mean over the same window, within 5 %.
	mu.Lock()
	got := slices.Clone(readings)
	mu.Unlock()
	compared := 0
	for i := 1; i < len(cycles); i++ {
		m, ok := cycles[i].tasks[arns[0]]
		if !ok {
			continue
		}
		cm := m.ContainerMetrics[0]
		var cpu, mib []float64
		for _, r := range got {
			// A reading ends at At and covers the second before it.
			if r.At.After(cycles[i-1].at.Add(time.Second)) && !r.At.After(cycles[i].at) {
				cpu, mib = append(cpu, r.CPU), append(mib, r.MiB)
			}
		}
		if len(cpu) < 3 {
			continue
		}
		compared++
		dCPU, dMiB := avg(cpu), avg(mib)
		t.Logf("cycle %d: TCS cpu %.1f %% (%d samples, %.1f–%.1f), memory %.1f MiB; docker stats cpu %.1f %%, memory %.1f MiB (%d readings)",
			i, mean(cm.CPUStatsSet), cm.CPUStatsSet.SampleCount, cm.CPUStatsSet.Min, cm.CPUStatsSet.Max, mean(cm.MemoryStatsSet), dCPU, dMiB, len(cpu))
		if rel := math.Abs(mean(cm.CPUStatsSet)-dCPU) / dCPU; rel > 0.05 {
			t.Errorf("cycle %d: TCS CPU %.2f %% vs docker stats %.2f %%: %.1f %% apart, want ≤ 5 %%", i, mean(cm.CPUStatsSet), dCPU, 100*rel)
		}
		if rel := math.Abs(mean(cm.MemoryStatsSet)-dMiB) / dMiB; rel > 0.05 {
			t.Errorf("cycle %d: TCS memory %.2f MiB vs docker stats %.2f MiB: %.1f %% apart, want ≤ 5 %%", i, mean(cm.MemoryStatsSet), dMiB, 100*rel)
		}
		if mean(cm.MemoryStatsSet) < 64 {
			t.Errorf("cycle %d: memory %.1f MiB; the container holds 64", i, mean(cm.MemoryStatsSet))
		}
	}
	if compared < 2 {
		t.Errorf("only %d cycles had docker stats readings to compare with (%d readings in all)", compared, len(got))
	}
}

func avg(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestTCSHealthGoesUnhealthyWithinOneCycle runs a container whose health
// check passes for 20 s, then fails: the UNHEALTHY Docker decides must
// reach TCS within one publish cycle (20 s). Metrics are off
// (ECS_DISABLE_METRICS), which stops the metrics but not the health.
func TestTCSHealthGoesUnhealthyWithinOneCycle(t *testing.T) {
	t.Parallel()
	e := h.StartECSWithACS(t)
	a := e.StartAgent(t, h.Options{Env: []string{noPolls, "ECS_DISABLE_METRICS=true"}})
	a.WaitSession(t, sessionTimeout)
	arn := a.RunTask(h.Task("checked", h.App("app", "healthy-for", "20s").HealthCheckedByTestapp()))
	task := a.WaitECSTask(t, arn, startTimeout, h.IsRunning)
	id := task.Status.ContainerStatusFor("app").DockerID

	health := func(want string) (time.Time, bool) {
		for _, r := range e.TCS().Records {
			if r.Health == nil {
				continue
			}
			for _, th := range r.Health.Tasks {
				if th.TaskArn == arn && len(th.Containers) == 1 && th.Containers[0].HealthStatus == want {
					return r.Time, true
				}
			}
		}
		return time.Time{}, false
	}
	a.WaitFor(t, "HEALTHY at TCS", 60*time.Second, func() (bool, string) {
		_, ok := health(tcs.HealthHealthy)
		return ok, "not yet"
	})
	var unhealthyAt time.Time
	a.WaitFor(t, "Docker to find the container unhealthy", 60*time.Second, func() (bool, string) {
		c, _, err := h.Inspect(id)
		if err != nil || c.State.Health == nil {
			return false, fmt.Sprint(err)
		}
		unhealthyAt = time.Now()
		return c.State.Health.Status == "unhealthy", c.State.Health.Status
	})
	var at time.Time
	a.WaitFor(t, "UNHEALTHY at TCS", 40*time.Second, func() (bool, string) {
		var ok bool
		at, ok = health(tcs.HealthUnhealthy)
		return ok, "not yet"
	})
	t.Logf("UNHEALTHY reached TCS %v after Docker's verdict", at.Sub(unhealthyAt).Round(time.Millisecond))
	if d := at.Sub(unhealthyAt); d > 22*time.Second {
		t.Errorf("UNHEALTHY reached TCS %v after Docker's verdict; want within one cycle (20 s ± 2 s)", d.Round(time.Millisecond))
	}
	st := e.TCS()
	for _, r := range st.Records {
		if r.Metrics != nil {
			t.Errorf("a metrics request with ECS_DISABLE_METRICS=true: %+v", r.Metrics.Metadata)
			break
		}
	}
	if len(st.Violations) > 0 {
		t.Errorf("TCS rules broken: %q", st.Violations)
	}
}
