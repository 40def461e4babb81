package controllers

import (
	"fmt"
	"slices"
	"strings"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// refusal is why this agent will not run the task at all, or "". The
// definition's own errors were found when it was read (internal/taskdef,
// for static files and ECS tasks alike); what is checked here depends on
// this instance's settings, or on features this agent does not have yet.
// Either way the task ends STOPPED with the reason, never running
// differently from what it asks.
func (t *taskRun) refusal() string {
	spec := &t.task.Spec
	if spec.DefinitionError != "" {
		return spec.DefinitionError
	}
	switch spec.NetworkMode {
	case "", apiv1.NetworkModeBridge, apiv1.NetworkModeHost, apiv1.NetworkModeNone:
	default:
		return fmt.Sprintf("network mode %q is not supported by this agent (bridge, host or none)", spec.NetworkMode)
	}
	if reason := t.roleRefusal(); reason != "" {
		return reason
	}
	for i := range spec.Containers {
		if reason := t.containerRefusal(&spec.Containers[i]); reason != "" {
			return fmt.Sprintf("%s: container %s: %s", apiv1.CannotCreateContainerErrorName, spec.Containers[i].Name, reason)
		}
	}
	return ""
}

// containerRefusal is why this instance cannot run the container as
// defined, or "".
func (t *taskRun) containerRefusal(c *apiv1.ContainerSpec) string {
	opts := &t.r.Opts
	if c.Privileged && opts.DisablePrivileged {
		return "it is privileged, and privileged containers are disabled on this instance (ECS_DISABLE_PRIVILEGED=true)"
	}
	if lc := c.LogConfiguration; lc != nil && len(opts.LoggingDrivers) > 0 && !slices.Contains(opts.LoggingDrivers, lc.LogDriver) {
		return fmt.Sprintf("log driver %q is not in ECS_AVAILABLE_LOGGING_DRIVERS %v", lc.LogDriver, opts.LoggingDrivers)
	}
	for _, o := range c.DockerSecurityOptions {
		// ECS places such tasks only on instances that advertise the
		// capability; Docker would accept the option and silently not
		// apply it on a host without the module.
		switch {
		case strings.HasPrefix(o, "label:") && !opts.SELinuxCapable:
			return fmt.Sprintf("dockerSecurityOptions %q needs SELinux, and this instance does not have it (ECS_SELINUX_CAPABLE=false)", o)
		case strings.HasPrefix(o, "apparmor:") && !opts.AppArmorCapable:
			return fmt.Sprintf("dockerSecurityOptions %q needs AppArmor, and this instance does not have it (ECS_APPARMOR_CAPABLE=false)", o)
		}
	}
	return ""
}
