package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// syncTerminating brings every container down in reverse dependency order:
// a container gets its stop signal once every container depending on it
// has stopped, and SIGKILL when its stop timeout has passed. The times live
// in the status, so a restarted agent keeps the same deadlines. Once no
// container runs, the task is STOPPED.
func (t *taskRun) syncTerminating(ctx context.Context) (step, error) {
	var after wakeup
	running := 0
	for i := range t.task.Spec.Containers {
		c := &t.task.Spec.Containers[i]
		cs := t.task.Status.ContainerStatusFor(c.Name)
		switch cs.KnownStatus {
		case apiv1.StatusStopped:
			continue
		case apiv1.StatusRunning:
			running++
			if t.hasRunningDependents(c.Name) {
				continue
			}
			if err := t.signal(ctx, c, cs, &after); err != nil {
				return step{}, err
			}
		default:
			// Never started: nothing to signal; its container, if any,
			// goes at cleanup.
			cs.KnownStatus = apiv1.StatusStopped
			if cs.Reason == "" {
				cs.Reason = "task stopped before the container started"
			}
		}
	}
	if running > 0 {
		return step{requeueAfter: after.d}, nil
	}
	st := &t.task.Status
	st.KnownStatus = apiv1.StatusStopped
	st.StoppedReason = t.finalReason()
	st.StoppedAt = microTime(t.now)
	st.CleanupAt = microTime(t.now.Add(t.r.Opts.CleanupWait))
	t.log.Info("task stopped", "reason", st.StoppedReason)
	taskTransitions.WithLabelValues(string(apiv1.StatusStopped)).Inc()
	if st.StoppedReason == st.StoppingReason {
		// The Stopping event said why.
		t.event(apiv1.EventNormal, "Stopped", "task stopped")
	} else {
		t.event(apiv1.EventNormal, "Stopped", "task stopped: %s", st.StoppedReason)
	}
	return step{requeueAfter: t.r.Opts.CleanupWait}, nil
}

// finalReason is the reason the task stopped. An essential container's exit
// that turns out to have been a removal behind the agent's back (docker rm -f
// kills, then removes) is reported as the removal.
func (t *taskRun) finalReason() string {
	reason := t.task.Status.StoppingReason
	if reason != apiv1.ReasonEssentialContainerExited {
		return reason
	}
	for _, c := range t.task.Spec.Containers {
		if cs := t.task.Status.ContainerStatusFor(c.Name); c.Essential && isRemovedReason(cs.Reason) {
			return cs.Reason
		}
	}
	return reason
}

func (t *taskRun) desiredStopReason() string {
	if t.task.Spec.Source == apiv1.SourceStatic {
		return fmt.Sprintf("Task stopped: static task file %s was removed or changed", t.task.Spec.SourceRef)
	}
	return "Task stopped by the control plane"
}

// hasRunningDependents reports whether a running container depends on name.
func (t *taskRun) hasRunningDependents(name string) bool {
	for _, c := range t.task.Spec.Containers {
		for _, p := range prerequisites(&c) {
			if p == name && t.task.Status.ContainerStatusFor(c.Name).KnownStatus == apiv1.StatusRunning {
				return true
			}
		}
	}
	return false
}

// signal sends the container its stop signal once, then SIGKILL after the
// stop timeout. The stop request is persisted before the signal is sent, so
// a crash in between cannot restart the timeout; a process that finds a
// request it did not send itself (the crash window) sends the signal again,
// under the persisted deadline.
func (t *taskRun) signal(ctx context.Context, c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus, after *wakeup) error {
	timeout := t.r.Opts.StopTimeout
	if c.StopTimeout != nil {
		timeout = time.Duration(*c.StopTimeout) * time.Second
	}
	sig := "SIGTERM"
	if dc, ok := t.r.Docker.Container(cs.DockerID); ok && dc.StopSignal != "" {
		sig = dc.StopSignal
	}
	first := cs.StopRequestedAt == nil
	if first {
		cs.StopRequestedAt = microTime(t.now)
		if err := t.r.Store.UpdateStatus(ctx, t.task); err != nil {
			return fmt.Errorf("record stop of container %s of task %s: %w", c.Name, t.task.Name, err)
		}
	}
	waited := since(t.now, cs.StopRequestedAt)
	switch _, sent := t.r.signalled.Load(cs.DockerID); {
	case waited >= timeout:
		sig = "SIGKILL"
	case sent:
		after.at(timeout - waited)
		return nil
	}
	err := t.r.Docker.SignalContainer(ctx, cs.DockerID, sig)
	switch {
	case err == nil, errors.Is(err, dockerstate.ErrNotFound):
		// A container already gone shows up as removed on the next pass.
	case dockerstate.IsTransient(err):
		return fmt.Errorf("send %s to container %s of task %s: %w", sig, c.Name, t.task.Name, err)
	default:
		// Most likely it stopped between our look and the signal; its exit
		// event requeues the task.
		t.log.V(1).Info("signal refused", "container", c.Name, "signal", sig, "error", err.Error())
	}
	t.r.signalled.Store(cs.DockerID, struct{}{})
	switch {
	case sig == "SIGKILL":
		t.event(apiv1.EventWarning, "Killed", "container %s did not stop within %s; sent SIGKILL", c.Name, timeout)
		after.at(time.Second)
	case first:
		t.event(apiv1.EventNormal, "Stopping", "sent %s to container %s (SIGKILL after %s)", sig, c.Name, timeout)
		after.at(timeout)
	default:
		t.event(apiv1.EventNormal, "Stopping", "sent %s again to container %s after an agent restart (SIGKILL at the first request's deadline)", sig, c.Name)
		after.at(timeout - waited)
	}
	return nil
}

// syncTerminated releases a stopped task's images at once and, once
// ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION has passed (and, for an ECS task,
// ECS has heard of the stop), removes its containers and task-scoped
// volumes, then the task itself. Its port allocations go with it (the ports
// reconciler sees the task gone).
func (t *taskRun) syncTerminated(ctx context.Context) (step, error) {
	st := &t.task.Status
	if err := t.releaseImages(ctx); err != nil {
		return step{}, err
	}
	if err := t.stopPause(ctx); err != nil {
		return step{}, err
	}
	if st.CleanupAt == nil {
		st.CleanupAt = microTime(t.now.Add(t.r.Opts.CleanupWait))
	}
	if wait := st.CleanupAt.Sub(t.now); wait > 0 {
		return step{requeueAfter: wait}, nil
	}
	if t.task.Spec.Source == apiv1.SourceECS && st.ReportedStatus != apiv1.StatusStopped {
		// ECS must hear of the stop before the task can be forgotten; the
		// reporter's acknowledgement is a write to the task, which requeues
		// it here.
		return step{}, nil
	}
	ids := map[string]bool{}
	for _, cs := range st.Containers {
		if cs.DockerID != "" {
			ids[cs.DockerID] = true
		}
	}
	// Also any container carrying the task's labels that the status never
	// recorded (a duplicate left by a crash).
	for _, dc := range t.r.Docker.TaskContainers(t.task.Spec.Arn) {
		ids[dc.ID] = true
	}
	for id := range ids {
		if err := t.r.Docker.RemoveContainer(ctx, id, true); err != nil && !errors.Is(err, dockerstate.ErrNotFound) {
			return step{}, fmt.Errorf("remove container %s of task %s: %w", short(id), t.task.Name, err)
		}
	}
	if t.r.Cgroups != nil {
		if err := t.r.Cgroups.Remove(t.task.Name); err != nil {
			return step{}, fmt.Errorf("clean up task %s: %w", t.task.Name, err)
		}
	}
	for i := range t.task.Spec.Volumes {
		name, dv := t.dockerVolume(&t.task.Spec.Volumes[i])
		if name == "" || (dv != nil && dv.Scope == "shared") {
			continue
		}
		if err := t.r.Docker.RemoveVolume(ctx, name); err != nil && !errors.Is(err, dockerstate.ErrNotFound) {
			return step{}, fmt.Errorf("remove volume %s of task %s: %w", name, t.task.Name, err)
		}
	}
	if err := t.r.Store.Delete(ctx, t.task); err != nil && !errors.Is(err, store.ErrNotFound) {
		return step{}, fmt.Errorf("delete task %s: %w", t.task.Name, err)
	}
	t.log.Info("task cleaned up")
	if f, ok := t.r.Events.(interface{ Forget(kind, name string) }); ok {
		f.Forget("Task", t.task.Name)
	}
	return step{deleted: true}, nil
}
