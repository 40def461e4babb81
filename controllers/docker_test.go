package controllers

import "github.com/ecs-agent/ecs-agent/internal/dockerstate/dockerfake"

// The fake the reconciler tests run on must keep satisfying what each
// reconciler asks of Docker.
var (
	_ TaskDocker         = (*dockerfake.Fake)(nil)
	_ ImageDocker        = (*dockerfake.Fake)(nil)
	_ ImageCleanupDocker = (*dockerfake.Fake)(nil)
	_ DockerChanges      = (*dockerfake.Fake)(nil)
)
