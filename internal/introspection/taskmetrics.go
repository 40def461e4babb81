package introspection

import (
	"context"
	"fmt"
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// The bounds of the per-task gauges (ECS_ENABLE_TASK_METRICS): at most
// MaxTaskMetricsTasks tasks, of at most MaxTaskMetricsContainers containers
// each (ECS's own limit per task definition; static task files are not
// held to it), two gauges a container: at most 4,000 series. What is past
// a bound is counted, not shown.
const (
	MaxTaskMetricsTasks      = 200
	MaxTaskMetricsContainers = 10
)

// The per-task gauges' labels are the task's family, its id and the
// container's name: never the ARN, image or Docker id, which add nothing
// to tell series apart and only lengthen them. The id is the whole task
// id, as `get tasks` and `top` show it: a shortened one could make two
// tasks' series the same, and Gather fails a scrape on that; the number
// of series is bounded by the caps above, not by the id's length.
var (
	taskLabels       = []string{"task_family", "task_id", "container"}
	containerCPUDesc = prometheus.NewDesc("ecs_agent_task_container_cpu_percent",
		"CPU use of a running task container over its latest Docker stats sample, in percent of one CPU (200 is two CPUs busy), as docker stats and ecs-agent top show it.",
		taskLabels, nil)
	containerMemoryDesc = prometheus.NewDesc("ecs_agent_task_container_memory_bytes",
		"Memory in use by a running task container, less the inactive file cache, as docker stats and ecs-agent top show it.",
		taskLabels, nil)
	droppedTasksDesc = prometheus.NewDesc("ecs_agent_task_metrics_dropped_tasks",
		fmt.Sprintf("Running tasks left out of this scrape's per-task gauges: the newest beyond the oldest %d.", MaxTaskMetricsTasks),
		nil, nil)
	droppedContainersDesc = prometheus.NewDesc("ecs_agent_task_metrics_dropped_containers",
		fmt.Sprintf("Running containers left out of this scrape's per-task gauges: those of a shown task past its first %d.", MaxTaskMetricsContainers),
		nil, nil)
)

// taskUsageCollector reads every running task container's latest sample at
// scrape time. Series exist only while their container runs: nothing is
// kept between scrapes, so a task that stopped leaves no stale series.
type taskUsageCollector struct {
	store store.Store
	stats Stats
	// maxTasks and maxContainers are the caps; tests lower them.
	maxTasks, maxContainers int
}

var _ prometheus.Collector = (*taskUsageCollector)(nil)

func (c *taskUsageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- containerCPUDesc
	ch <- containerMemoryDesc
	ch <- droppedTasksDesc
	ch <- droppedContainersDesc
}

func (c *taskUsageCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	var tasks apiv1.TaskList
	if err := c.store.List(ctx, &tasks); err != nil {
		// The object collector's ecs_agent_store_scrape_error says so.
		return
	}
	var running []apiv1.TaskMetrics
	for i := range tasks.Items {
		t := &tasks.Items[i]
		if t.Status.KnownStatus == apiv1.StatusStopped {
			continue
		}
		if m := taskMetrics(t, c.stats); sampled(m) {
			running = append(running, m)
		}
	}
	// The oldest tasks keep their series when there are too many: the same
	// ones scrape after scrape, rather than a set that changes with every
	// new task.
	sort.SliceStable(running, func(i, j int) bool {
		a, b := running[i].CreationTimestamp, running[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return running[i].Name < running[j].Name
	})
	droppedTasks, droppedContainers := 0, 0
	if len(running) > c.maxTasks {
		droppedTasks = len(running) - c.maxTasks
		running = running[:c.maxTasks]
	}
	for _, m := range running {
		shown := 0
		for _, cm := range m.Containers {
			if cm.SampledAt == nil {
				continue
			}
			if shown == c.maxContainers {
				droppedContainers++
				continue
			}
			shown++
			if cm.CPUPercent != nil {
				ch <- prometheus.MustNewConstMetric(containerCPUDesc, prometheus.GaugeValue, *cm.CPUPercent, m.Family, m.Name, cm.Name)
			}
			if cm.MemoryBytes != nil {
				ch <- prometheus.MustNewConstMetric(containerMemoryDesc, prometheus.GaugeValue, float64(*cm.MemoryBytes), m.Family, m.Name, cm.Name)
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(droppedTasksDesc, prometheus.GaugeValue, float64(droppedTasks))
	ch <- prometheus.MustNewConstMetric(droppedContainersDesc, prometheus.GaugeValue, float64(droppedContainers))
}

// sampled reports whether any of the task's containers has a sample, that
// is, runs now.
func sampled(m apiv1.TaskMetrics) bool {
	for _, c := range m.Containers {
		if c.SampledAt != nil {
			return true
		}
	}
	return false
}
