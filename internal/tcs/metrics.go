package tcs

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	metricConnected = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ecs_agent_tcs_connected",
		Help: "1 while a TCS (telemetry) session is open, else 0.",
	})
	metricMessages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ecs_agent_tcs_messages_total",
		Help: "TCS frames by direction (received, sent) and message type.",
	}, []string{"direction", "type"})
	metricSessions = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ecs_agent_tcs_sessions_total",
		Help: "TCS sessions opened.",
	})
	metricDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ecs_agent_tcs_tasks_dropped_total",
		Help: "Task metrics left out of a publish because one task alone would exceed the 1 MiB frame limit.",
	})
)

func init() {
	metrics.Registry.MustRegister(metricConnected, metricMessages, metricSessions, metricDropped)
}
