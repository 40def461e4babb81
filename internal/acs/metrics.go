package acs

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	metricConnected = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ecs_agent_acs_connected",
		Help: "1 while an ACS session is open, else 0.",
	})
	metricMessages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ecs_agent_acs_messages_total",
		Help: "ACS frames by direction (received, sent) and message type.",
	}, []string{"direction", "type"})
	metricReconnects = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ecs_agent_acs_reconnects_total",
		Help: "ACS sessions opened after the process's first.",
	})
)

func init() {
	metrics.Registry.MustRegister(metricConnected, metricMessages, metricReconnects)
}
