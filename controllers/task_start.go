package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/ports"
)

// syncRunning moves a task that should run one step further: it handles
// exits (restart in place, or stop when an essential container is gone for
// good), then creates and starts the containers whose dependencies allow
// it. It never stops the task itself: it says why the task must stop, and
// Reconcile decides.
func (t *taskRun) syncRunning(ctx context.Context) (step, error) {
	if reason := t.refusal(); reason != "" {
		return step{stopReason: reason}, nil
	}
	if t.newMetadataIDs {
		// Persist the ids the containers' environments will carry first.
		return step{requeueAfter: time.Millisecond}, nil
	}
	var after wakeup
	if reason, err := t.handleExits(ctx, &after); err != nil || reason != "" {
		return step{stopReason: reason}, err
	}
	order, err := startOrder(&t.task.Spec)
	if err != nil {
		return step{stopReason: err.Error()}, nil
	}
	if err := t.ensureVolumes(ctx); err != nil {
		return step{}, err
	}
	for _, i := range order {
		c := &t.task.Spec.Containers[i]
		if reason, err := t.advance(ctx, c, &after); err != nil || reason != "" {
			return step{stopReason: reason}, err
		}
	}
	return step{requeueAfter: after.d}, nil
}

// step is what one step of a task pass found: when the task must be looked
// at again, and, from syncRunning, why it must stop ("" when it need not).
type step struct {
	requeueAfter time.Duration
	stopReason   string
	// deleted says syncTerminated removed the task.
	deleted bool
}

// wakeup keeps the earliest time a pass must look at the task again.
type wakeup struct{ d time.Duration }

func (w *wakeup) at(d time.Duration) {
	if d <= 0 {
		d = time.Millisecond
	}
	if w.d == 0 || d < w.d {
		w.d = d
	}
}

// refusal is why this agent will not run the task at all, or "".
func (t *taskRun) refusal() string {
	if t.task.Spec.DefinitionError != "" {
		return t.task.Spec.DefinitionError
	}
	if reason := t.roleRefusal(); reason != "" {
		return reason
	}
	for _, c := range t.task.Spec.Containers {
		if c.Privileged && t.r.Opts.DisablePrivileged {
			return fmt.Sprintf("CannotCreateContainerError: container %s is privileged, and privileged containers are disabled on this instance (ECS_DISABLE_PRIVILEGED=true)", c.Name)
		}
		if lc := c.LogConfiguration; lc != nil && len(t.r.Opts.LoggingDrivers) > 0 && !slices.Contains(t.r.Opts.LoggingDrivers, lc.LogDriver) {
			return fmt.Sprintf("CannotCreateContainerError: container %s uses log driver %q, which is not in ECS_AVAILABLE_LOGGING_DRIVERS %v", c.Name, lc.LogDriver, t.r.Opts.LoggingDrivers)
		}
	}
	switch t.task.Spec.NetworkMode {
	case "", apiv1.NetworkModeBridge, apiv1.NetworkModeHost, apiv1.NetworkModeNone:
		return ""
	}
	return fmt.Sprintf("network mode %q is not supported by this agent (bridge, host or none)", t.task.Spec.NetworkMode)
}

// handleExits restarts exited containers whose restart policy allows it,
// and says why the task must stop when an essential container is gone for
// good.
func (t *taskRun) handleExits(ctx context.Context, after *wakeup) (string, error) {
	for i := range t.task.Spec.Containers {
		c := &t.task.Spec.Containers[i]
		cs := t.task.Status.ContainerStatusFor(c.Name)
		if cs.KnownStatus != apiv1.StatusStopped {
			continue
		}
		if cs.StartedAt != nil && cs.DockerID != "" {
			restarted, err := t.maybeRestart(ctx, c, cs, after)
			if err != nil || restarted {
				return "", err
			}
		}
		if c.Essential {
			if (cs.ExitCode == nil && cs.Reason != "") || isRemovedReason(cs.Reason) {
				// It did not exit: it never started, or it was removed.
				return cs.Reason, nil
			}
			return apiv1.ReasonEssentialContainerExited, nil
		}
	}
	return "", nil
}

// maybeRestart restarts an exited container in place when its restart policy
// says so, as the ECS agent does: not for an ignored exit code, and not
// before the container has run for restartAttemptPeriod since its last
// (re)start.
func (t *taskRun) maybeRestart(ctx context.Context, c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus, after *wakeup) (bool, error) {
	rp := c.RestartPolicy
	if rp == nil || !rp.Enabled || cs.ExitCode == nil || slices.Contains(rp.IgnoredExitCodes, *cs.ExitCode) {
		return false, nil
	}
	period := time.Duration(rp.RestartAttemptPeriod) * time.Second
	if period == 0 {
		period = 300 * time.Second
	}
	ref := cs.StartedAt
	if cs.LastRestartAt != nil {
		ref = cs.LastRestartAt
	}
	if cs.FinishedAt != nil && cs.FinishedAt.Sub(ref.Time) < period {
		return false, nil
	}
	if err := t.r.Docker.StartContainer(ctx, cs.DockerID); err != nil {
		if dockerstate.IsTransient(err) {
			return false, fmt.Errorf("restart container %s of task %s: %w", c.Name, t.task.Name, err)
		}
		cs.Reason = fmt.Sprintf("CannotStartContainerError: restart: %v", err)
		return false, nil
	}
	cs.RestartCount++
	cs.LastRestartAt = microTime(t.now)
	cs.KnownStatus = apiv1.StatusRunning
	cs.ExitCode = nil
	cs.FinishedAt = nil
	t.refresh(ctx, cs)
	t.event(apiv1.EventNormal, "Restarted", "container %s restarted by its restart policy (restart %d)", c.Name, cs.RestartCount)
	after.at(time.Second)
	return true, nil
}

// advance creates or starts one container if it is its turn, and says why
// the task must stop if the container can never start and is essential.
func (t *taskRun) advance(ctx context.Context, c *apiv1.ContainerSpec, after *wakeup) (string, error) {
	cs := t.task.Status.ContainerStatusFor(c.Name)
	switch cs.KnownStatus {
	case apiv1.StatusNone, apiv1.StatusPulled:
		if !t.dependenciesCreated(c) {
			return "", nil
		}
		if ready, reason, err := t.ensureCredentials(ctx); err != nil || !ready {
			return reason, err
		}
		ready, reason, err := t.ensureImage(ctx, c, cs)
		if err != nil || !ready {
			return reason, err
		}
		return t.create(ctx, c, cs)
	case apiv1.StatusCreated:
		switch state, why := t.dependencies(c); state {
		case depMet:
			return t.start(ctx, c, cs)
		case depFailed:
			return t.failContainer(c, cs, "DependencyError: "+why), nil
		default:
			return t.checkStartTimeout(c, cs, why, after), nil
		}
	}
	return "", nil
}

// checkStartTimeout gives up on a container whose dependencies did not
// resolve within its startTimeout.
func (t *taskRun) checkStartTimeout(c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus, waitingFor string, after *wakeup) string {
	if c.StartTimeout == nil || cs.CreatedAt == nil {
		return ""
	}
	limit := time.Duration(*c.StartTimeout) * time.Second
	waited := since(t.now, cs.CreatedAt)
	if waited >= limit {
		return t.failContainer(c, cs, fmt.Sprintf("DependencyError: timed out after %s waiting for %s", limit, waitingFor))
	}
	after.at(limit - waited)
	return ""
}

// failContainer marks a container that can never start. It returns the
// reason when the container is essential, which takes the task down with
// it, and "" when it is not.
func (t *taskRun) failContainer(c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus, reason string) string {
	cs.KnownStatus = apiv1.StatusStopped
	cs.Reason = reason
	cs.FinishedAt = microTime(t.now)
	t.log.Info("container cannot start", "container", c.Name, "reason", reason)
	t.event(apiv1.EventWarning, "ContainerFailed", "container %s: %s", c.Name, reason)
	if c.Essential {
		return reason
	}
	return ""
}

func (t *taskRun) create(ctx context.Context, c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus) (string, error) {
	secretEnv, reason, err := t.secretEnvironment(ctx, c)
	if err != nil || reason != "" {
		if reason != "" {
			return t.failContainer(c, cs, reason), nil
		}
		return "", err
	}
	bindings, err := t.r.Ports.Allocate(ctx, t.task, c)
	if errors.Is(err, ports.ErrUnavailable) {
		return t.failContainer(c, cs, apiv1.CannotCreateContainerErrorName+": "+err.Error()), nil
	}
	if err != nil {
		return "", fmt.Errorf("allocate ports of task %s: %w", t.task.Name, err)
	}
	cfg := t.containerConfig(c, bindings)
	agentEnv, err := t.agentEnvironment(ctx, c, cs)
	if err != nil {
		return "", fmt.Errorf("create container %s of task %s: %w", c.Name, t.task.Name, err)
	}
	// The definition's environment, then its secrets, then the agent's,
	// whose names win.
	cfg.Env = append(append(cfg.Env, secretEnv...), agentEnv...)
	t.awslogsCredentials(&cfg)
	dc, err := t.r.Docker.CreateContainer(ctx, cfg)
	if err != nil {
		if dockerstate.IsTransient(err) {
			return "", fmt.Errorf("create container %s of task %s: %w", c.Name, t.task.Name, err)
		}
		return t.failContainer(c, cs, fmt.Sprintf("CannotCreateContainerError: %v", err)), nil
	}
	cs.Ports = bindings
	t.applyDocker(cs, &dc)
	t.event(apiv1.EventNormal, "Created", "created container %s (%s)", c.Name, short(dc.ID))
	return "", nil
}

func (t *taskRun) start(ctx context.Context, c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus) (string, error) {
	if err := t.r.Docker.StartContainer(ctx, cs.DockerID); err != nil {
		if dockerstate.IsTransient(err) {
			return "", fmt.Errorf("start container %s of task %s: %w", c.Name, t.task.Name, err)
		}
		return t.failContainer(c, cs, fmt.Sprintf("CannotStartContainerError: %v", err)), nil
	}
	t.refresh(ctx, cs)
	t.event(apiv1.EventNormal, "Started", "started container %s", c.Name)
	return "", nil
}

// refresh re-reads a container the pass just changed, so that the status
// written at the end of the pass already shows it (and its host ports).
func (t *taskRun) refresh(ctx context.Context, cs *apiv1.ContainerStatus) {
	dc, err := t.r.Docker.InspectContainer(ctx, cs.DockerID)
	if err != nil {
		// The Docker event for the change requeues the task anyway.
		t.log.V(1).Info("inspect after change failed", "container", cs.Name, "error", err.Error())
		return
	}
	t.applyDocker(cs, &dc)
}
