package agent

import (
	"github.com/ecs-agent/ecs-agent/controllers"
	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/taskcgroup"
)

// taskCgroups is what enforces task-level cpu and memory, or nil when
// ECS_ENABLE_TASK_CPU_MEM_LIMIT turns it off (an untyped nil, which the
// tasks reconciler tests for).
func taskCgroups(cfg *config.Config, docker *dockerstate.Docker) controllers.TaskCgroups {
	if !cfg.TaskCPUMemLimit {
		return nil
	}
	return &taskcgroup.Manager{Root: cfg.CgroupPath, DockerDriver: docker.CgroupDriver}
}
