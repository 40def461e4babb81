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
	"github.com/ecs-agent/ecs-agent/internal/taskcgroup"
	"github.com/ecs-agent/ecs-agent/internal/taskdef"
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
	if t.unstored {
		// The ids the containers' environments will carry and the names
		// they are created under are stored first; the pass then goes on
		// instead of waiting for the write's watch event to come back.
		if err := t.store(ctx, "container ids and names"); err != nil {
			return step{}, err
		}
		t.unstored = false
		if t.task.Spec.DesiredStatus == apiv1.StatusStopped {
			// Told to stop while the pass ran (the store read the new
			// spec back): create nothing more.
			return step{stopReason: t.desiredStopReason()}, nil
		}
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
	if sharesNamespaces(&t.task.Spec) && t.anyToCreate() {
		id, reason, err := t.ensurePause(ctx)
		if err != nil || reason != "" {
			return step{stopReason: reason}, err
		}
		t.pauseID = id
	}
	for _, i := range order {
		c := &t.task.Spec.Containers[i]
		if reason, err := t.advance(ctx, c, &after); err != nil || reason != "" {
			return step{stopReason: reason}, err
		}
	}
	return step{requeueAfter: after.d}, nil
}

// anyToCreate reports whether a container of the task is still to be
// created, which is when the pause container must be there.
func (t *taskRun) anyToCreate() bool {
	for _, cs := range t.task.Status.Containers {
		if cs.KnownStatus == apiv1.StatusNone || cs.KnownStatus == apiv1.StatusPulled {
			return true
		}
	}
	return false
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
	if cs.KnownStatus == apiv1.StatusNone || cs.KnownStatus == apiv1.StatusPulled {
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
		if reason, err := t.create(ctx, c, cs); err != nil || reason != "" {
			return reason, err
		}
		if cs = t.task.Status.ContainerStatusFor(c.Name); cs.KnownStatus != apiv1.StatusCreated {
			return "", nil
		}
		// The container's id is stored before it is started, and the
		// start follows in this pass: the create's Docker event would
		// only requeue the task to do it.
		if err := t.store(ctx, "container "+c.Name+" created"); err != nil {
			return "", err
		}
		cs = t.task.Status.ContainerStatusFor(c.Name)
	}
	if cs.KnownStatus != apiv1.StatusCreated {
		return "", nil
	}
	switch state, why := t.dependencies(c); state {
	case depMet:
		return t.start(ctx, c, cs)
	case depFailed:
		return t.failContainer(c, cs, "DependencyError: "+why), nil
	default:
		return t.checkStartTimeout(c, cs, why, after), nil
	}
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
	return t.failContainerSaying(c, cs, reason, reason)
}

// failContainerSaying is failContainer with the event saying summary
// instead of the whole reason, when another event already tells it.
func (t *taskRun) failContainerSaying(c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus, reason, summary string) string {
	cs.KnownStatus = apiv1.StatusStopped
	cs.Reason = reason
	cs.FinishedAt = microTime(t.now)
	t.log.Info("container cannot start", "container", c.Name, "reason", reason)
	t.event(apiv1.EventWarning, "ContainerFailed", "container %s: %s", c.Name, summary)
	if c.Essential {
		return reason
	}
	return ""
}

func (t *taskRun) create(ctx context.Context, c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus) (string, error) {
	parent, err := t.taskCgroup(ctx)
	if err != nil {
		return t.failContainer(c, cs, apiv1.CannotCreateContainerErrorName+": "+err.Error()), nil
	}
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
	if cs.DockerName == "" {
		// The name is persisted before the create, so a create whose
		// answer is lost (a client timeout, a crash) is found again by it
		// instead of being made twice. observe names containers before
		// their first pass's write; this is for one it did not.
		cs.DockerName = dockerstate.ContainerName(t.task.Spec.Family, t.task.Spec.Revision, c.Name)
		if err := t.store(ctx, "name of container "+c.Name); err != nil {
			return "", err
		}
		cs = t.task.Status.ContainerStatusFor(c.Name)
	}
	cfg := t.containerConfig(c, bindings)
	cfg.Name = cs.DockerName
	cfg.CgroupParent = parent
	cfg.Image = imageToCreate(c, cs)
	agentEnv, err := t.agentEnvironment(ctx, c, cs)
	if err != nil {
		return "", fmt.Errorf("create container %s of task %s: %w", c.Name, t.task.Name, err)
	}
	// The definition's environment, then its secrets, then the agent's,
	// whose names win.
	cfg.Env = append(append(cfg.Env, secretEnv...), agentEnv...)
	t.awslogsCredentials(&cfg)
	dc, err := t.r.Docker.CreateContainer(ctx, cfg)
	if errors.Is(err, dockerstate.ErrNameInUse) {
		dc, err = t.adoptByName(ctx, cs.DockerName)
	}
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

// adoptByName takes over the container an earlier create of this pass's
// container made under the persisted name.
func (t *taskRun) adoptByName(ctx context.Context, name string) (dockerstate.Container, error) {
	dc, err := t.r.Docker.InspectContainer(ctx, name)
	if err != nil {
		return dockerstate.Container{}, fmt.Errorf("inspect container %s, whose name is taken: %w", name, err)
	}
	if dc.TaskARN() != t.task.Spec.Arn {
		return dockerstate.Container{}, fmt.Errorf("container name %s is taken by a container of another task (%s)", name, dc.TaskARN())
	}
	t.log.Info("adopted a container an earlier create made", "container", name, "dockerId", short(dc.ID))
	return dc, nil
}

// taskCgroup makes the cgroup that enforces the task's cpu and memory, and
// returns the cgroup parent of its containers: "" when the task sets
// neither, or the instance does not enforce them. The cgroup is made before
// each create (it is cheap and idempotent), so that one removed behind the
// agent's back, or lost with a reboot, is there again.
func (t *taskRun) taskCgroup(ctx context.Context) (string, error) {
	spec := &t.task.Spec
	if t.r.Cgroups == nil || (spec.CPU == "" && spec.Memory == "") {
		return "", nil
	}
	var l taskcgroup.Limits
	var err error
	if spec.CPU != "" {
		if l.CPUUnits, err = taskdef.TaskCPU(spec.CPU); err != nil {
			return "", fmt.Errorf("task cpu %q: %w", spec.CPU, err)
		}
	}
	if spec.Memory != "" {
		if l.MemoryMiB, err = taskdef.TaskMemory(spec.Memory); err != nil {
			return "", fmt.Errorf("task memory %q: %w", spec.Memory, err)
		}
	}
	parent, err := t.r.Cgroups.Ensure(ctx, t.task.Name, l)
	if err != nil {
		return "", fmt.Errorf("task cpu and memory cannot be enforced: %w", err)
	}
	return parent, nil
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
