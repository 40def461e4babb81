package controlplane

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	apiCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ecs_agent_ecs_api_calls_total",
		Help: "Requests sent to the ECS API (each retry counts), by operation.",
	}, []string{"operation"})
	pollErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ecs_agent_ecs_poll_errors_total",
		Help: "Polls of the ECS API that failed (the next one backs off).",
	})
)

func init() {
	metrics.Registry.MustRegister(apiCalls, pollErrors)
}
