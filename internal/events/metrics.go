package events

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The recorder's counters, served at /metrics with controller-runtime's.
var (
	droppedTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ecs_agent_events_dropped_total",
		Help: "Events not recorded because the recorder's queue was full.",
	})
	writeErrorsTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ecs_agent_events_write_errors_total",
		Help: "Event writes to the store that failed.",
	})
)

func init() {
	// Registered where controller-runtime registers its own metrics, the
	// registry the introspection server's /metrics serves.
	metrics.Registry.MustRegister(droppedTotal, writeErrorsTotal)
}
