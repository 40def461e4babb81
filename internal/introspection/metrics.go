package introspection

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Gauges read from the store at scrape time: counting objects as they are,
// rather than keeping counters in step with every write, cannot drift.
var (
	tasksDesc = prometheus.NewDesc("ecs_agent_tasks",
		"Tasks in the agent's store, by known and desired status.",
		[]string{"known_status", "desired_status"}, nil)
	imagesDesc = prometheus.NewDesc("ecs_agent_images",
		"Images in the agent's store, by phase.", []string{"phase"}, nil)
	portsDesc = prometheus.NewDesc("ecs_agent_port_allocations",
		"Host ports the agent holds for tasks, by protocol.", []string{"protocol"}, nil)
	scrapeErrorDesc = prometheus.NewDesc("ecs_agent_store_scrape_error",
		"1 when the store could not be read for this scrape.", nil, nil)
)

// scrapeTimeout bounds the store reads of one scrape.
const scrapeTimeout = 5 * time.Second

// objectCollector counts the store's objects on every scrape.
type objectCollector struct {
	store store.Store
}

var _ prometheus.Collector = (*objectCollector)(nil)

func (c *objectCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- tasksDesc
	ch <- imagesDesc
	ch <- portsDesc
	ch <- scrapeErrorDesc
}

func (c *objectCollector) Collect(ch chan<- prometheus.Metric) {
	if c.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	failed := 0.0

	var tasks apiv1.TaskList
	if err := c.store.List(ctx, &tasks); err == nil {
		type key struct{ known, desired string }
		counts := map[key]float64{}
		for _, t := range tasks.Items {
			known := string(t.Status.KnownStatus)
			if known == "" {
				known = string(apiv1.StatusNone)
			}
			counts[key{known, string(t.Spec.DesiredStatus)}]++
		}
		for k, n := range counts {
			ch <- prometheus.MustNewConstMetric(tasksDesc, prometheus.GaugeValue, n, k.known, k.desired)
		}
	} else {
		failed = 1
	}

	var images apiv1.ImageList
	if err := c.store.List(ctx, &images); err == nil {
		counts := map[string]float64{}
		for _, img := range images.Items {
			counts[img.Status.Phase]++
		}
		for phase, n := range counts {
			ch <- prometheus.MustNewConstMetric(imagesDesc, prometheus.GaugeValue, n, phase)
		}
	} else {
		failed = 1
	}

	var ports apiv1.PortAllocationList
	if err := c.store.List(ctx, &ports); err == nil {
		counts := map[string]float64{}
		for _, p := range ports.Items {
			counts[p.Spec.Protocol]++
		}
		for proto, n := range counts {
			ch <- prometheus.MustNewConstMetric(portsDesc, prometheus.GaugeValue, n, proto)
		}
	} else {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrorDesc, prometheus.GaugeValue, failed)
}
