package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The agent's own metrics beside controller-runtime's, on the same
// registry that /metrics serves.
var (
	taskTransitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ecs_agent_task_transitions_total",
		Help: "Tasks that reached a known status (RUNNING, STOPPED), by status.",
	}, []string{"status"})
	taskStartSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "ecs_agent_task_start_seconds",
		Help:    "Time from a task object's creation to the task RUNNING.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
	})
	imagePulls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ecs_agent_image_pulls_total",
		Help: "Image pulls by result (success, failure).",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(taskTransitions, taskStartSeconds, imagePulls)
}
