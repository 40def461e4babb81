package controllers

import (
	"fmt"
	"slices"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/taskdef"
)

type depState int

const (
	depWaiting depState = iota
	depMet
	depFailed
)

// startOrder lists container indexes so that every container comes after the
// containers it depends on (dependsOn and volumesFrom), by the rule taskdef
// validates definitions with. A cycle is an error naming the containers in it.
func startOrder(spec *apiv1.TaskSpec) ([]int, error) {
	names := make([]string, len(spec.Containers))
	for i := range spec.Containers {
		names[i] = spec.Containers[i].Name
	}
	return taskdef.StartOrder(names, func(i int) []string { return prerequisites(&spec.Containers[i]) })
}

// prerequisites are the containers that must exist before c is created:
// Docker resolves volumesFrom and links when it creates the container.
func prerequisites(c *apiv1.ContainerSpec) []string {
	var names []string
	for _, d := range c.DependsOn {
		names = append(names, d.ContainerName)
	}
	for _, v := range c.VolumesFrom {
		names = append(names, v.SourceContainer)
	}
	for _, l := range c.Links {
		names = append(names, taskdef.LinkTarget(l))
	}
	return names
}

// dependenciesCreated reports whether every container c depends on exists (or
// has already come and gone), which is when c itself may be created: a
// volumesFrom source must exist before its consumer.
func (t *taskRun) dependenciesCreated(c *apiv1.ContainerSpec) bool {
	for _, name := range prerequisites(c) {
		ds := t.task.Status.ContainerStatusFor(name)
		if ds == nil || ds.KnownStatus == apiv1.StatusNone || ds.KnownStatus == apiv1.StatusPulled {
			return false
		}
	}
	return true
}

// dependencies says whether c's dependsOn conditions hold, can still come to
// hold, or never will; the string names what is awaited or what failed.
func (t *taskRun) dependencies(c *apiv1.ContainerSpec) (depState, string) {
	for _, d := range startDependencies(c) {
		ds := t.task.Status.ContainerStatusFor(d.ContainerName)
		state, why := condition(d, ds)
		if state != depMet {
			return state, why
		}
	}
	return depMet, ""
}

// startDependencies are c's dependsOn entries, and a START condition on each
// container it links to: Docker starts a container only when the containers
// it links to are running, as the ECS agent's links imply.
func startDependencies(c *apiv1.ContainerSpec) []apiv1.ContainerDependency {
	if len(c.Links) == 0 {
		return c.DependsOn
	}
	deps := slices.Clone(c.DependsOn)
	for _, l := range c.Links {
		deps = append(deps, apiv1.ContainerDependency{ContainerName: taskdef.LinkTarget(l), Condition: apiv1.ConditionStart})
	}
	return deps
}

// condition evaluates one dependsOn entry against the dependency's status,
// with the meanings ECS gives the conditions.
func condition(d apiv1.ContainerDependency, ds *apiv1.ContainerStatus) (depState, string) {
	name := d.ContainerName
	stopped := ds.KnownStatus == apiv1.StatusStopped
	ran := ds.StartedAt != nil
	exited := stopped && ds.ExitCode != nil
	waiting := fmt.Sprintf("container %s to reach condition %s", name, d.Condition)
	switch d.Condition {
	case apiv1.ConditionCreate:
		if ds.DockerID != "" {
			return depMet, ""
		}
		if stopped {
			return depFailed, fmt.Sprintf("container %s was never created (condition CREATE): %s", name, ds.Reason)
		}
	case apiv1.ConditionStart:
		if ran {
			return depMet, ""
		}
		if stopped {
			return depFailed, fmt.Sprintf("container %s never started (condition START): %s", name, ds.Reason)
		}
	case apiv1.ConditionComplete:
		if exited {
			return depMet, ""
		}
		if stopped {
			return depFailed, fmt.Sprintf("container %s never ran (condition COMPLETE): %s", name, ds.Reason)
		}
	case apiv1.ConditionSuccess:
		if exited && *ds.ExitCode == 0 {
			return depMet, ""
		}
		if exited {
			return depFailed, fmt.Sprintf("container %s exited with code %d (condition SUCCESS)", name, *ds.ExitCode)
		}
		if stopped {
			return depFailed, fmt.Sprintf("container %s never ran (condition SUCCESS): %s", name, ds.Reason)
		}
	case apiv1.ConditionHealthy:
		if ds.Health != nil && ds.Health.Status == apiv1.HealthHealthy {
			return depMet, ""
		}
		if ds.Health != nil && ds.Health.Status == apiv1.HealthUnhealthy {
			return depFailed, fmt.Sprintf("container %s is UNHEALTHY (condition HEALTHY)", name)
		}
		if stopped {
			return depFailed, fmt.Sprintf("container %s stopped before it was healthy (condition HEALTHY)", name)
		}
	default:
		return depFailed, fmt.Sprintf("unknown dependsOn condition %q for container %s", d.Condition, name)
	}
	return depWaiting, waiting
}
