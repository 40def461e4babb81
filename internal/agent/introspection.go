package agent

import (
	"github.com/go-logr/logr"

	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/introspection"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/version"
)

// introspectionOptions configures the introspection API; stats is nil when
// ECS_DISABLE_METRICS turned sampling off.
func introspectionOptions(cfg *config.Config, st store.Store, ready func() error, stats *dockerstate.Stats, log logr.Logger) introspection.Options {
	opts := introspection.Options{Store: st, Ready: ready, Version: version.Agent(), Log: log, TaskMetrics: cfg.TaskMetrics}
	// Only a real sampler goes into the interface: a nil *Stats in it
	// would not be nil, and `top` would call it instead of saying that
	// metrics are disabled.
	if stats != nil {
		opts.Stats = stats
	}
	return opts
}
