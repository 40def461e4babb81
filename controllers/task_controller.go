package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// PortAllocator gives a container its host ports; ports.Allocator is one.
type PortAllocator interface {
	Allocate(ctx context.Context, task *apiv1.Task, c *apiv1.ContainerSpec) ([]apiv1.PortBinding, error)
}

// TaskOptions are the agent settings the tasks reconciler applies.
type TaskOptions struct {
	Cluster string
	// StopTimeout is ECS_CONTAINER_STOP_TIMEOUT, used when a container
	// definition has no stopTimeout.
	StopTimeout time.Duration
	// CleanupWait is ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION.
	CleanupWait       time.Duration
	DisablePrivileged bool
	// LoggingDrivers is ECS_AVAILABLE_LOGGING_DRIVERS.
	LoggingDrivers []string
	// PullBehavior is ECS_IMAGE_PULL_BEHAVIOR (PullDefault, …). With ""
	// a task uses an image on the host without asking for a pull.
	PullBehavior string
}

// TaskReconciler drives one task's containers through the ECS lifecycle:
// ports, images, create and start in dependency order, watch exits, stop in
// reverse order with SIGTERM then SIGKILL, and clean up after the wait.
type TaskReconciler struct {
	Store  store.Store
	Docker TaskDocker
	Ports  PortAllocator
	Events Recorder
	Now    Clock
	Opts   TaskOptions
}

var _ reconcile.Reconciler = (*TaskReconciler)(nil)

// resyncAfter bounds how long a task goes unlooked-at: a backstop for any
// change that reached us by no watch.
const resyncAfter = 5 * time.Minute

// Reconcile implements reconcile.Reconciler.
func (r *TaskReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	log := log.FromContext(ctx).WithValues("task", req.Name)
	ctx = logr.NewContext(ctx, log)
	var task apiv1.Task
	if err := r.Store.Get(ctx, req.Name, &task); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("get task %s: %w", req.Name, err)
	}
	if !r.Docker.Synced() {
		// Without the first list we cannot tell a missing container from
		// one we have not seen yet.
		return reconcile.Result{RequeueAfter: time.Second}, nil
	}
	before := task.Status.DeepCopy()
	t := &taskRun{r: r, task: &task, now: r.Now(), log: log}
	t.observe()

	var res reconcile.Result
	var err error
	switch {
	case task.Status.KnownStatus == apiv1.StatusStopped:
		res, err = t.cleanup(ctx)
		if t.deleted {
			return res, err
		}
	case t.stopping():
		res, err = t.stop(ctx)
	default:
		res, err = t.progress(ctx)
	}
	t.summarize()
	if werr := r.writeStatus(ctx, &task, before); werr != nil {
		return reconcile.Result{}, errors.Join(err, werr)
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	if res.RequeueAfter == 0 || res.RequeueAfter > resyncAfter {
		res.RequeueAfter = resyncAfter
	}
	return res, nil
}

// writeStatus stores the task's status unless it is unchanged. A conflict
// means the spec changed under us: the watch requeues the task and the next
// pass re-reads everything, including containers we just created, which are
// found again by their labels.
func (r *TaskReconciler) writeStatus(ctx context.Context, task *apiv1.Task, before *apiv1.TaskStatus) error {
	if equality.Semantic.DeepEqual(before, &task.Status) {
		return nil
	}
	if err := r.Store.Update(ctx, task); err != nil {
		return fmt.Errorf("write status of task %s: %w", task.Name, err)
	}
	return nil
}

// taskRun is one pass of the reconciler over one task.
type taskRun struct {
	r       *TaskReconciler
	task    *apiv1.Task
	now     time.Time
	log     logr.Logger
	deleted bool
}

func (t *taskRun) event(eventType, reason, format string, args ...any) {
	if t.r.Events != nil {
		t.r.Events.Eventf(t.task, eventType, reason, format, args...)
	}
}

// stopping reports whether the task is on its way to STOPPED: its source
// wants it stopped, or the agent decided it must stop.
func (t *taskRun) stopping() bool {
	return t.task.Spec.DesiredStatus == apiv1.StatusStopped || t.task.Status.StoppingReason != ""
}

// stopTask decides that the task must stop, for the given reason; the first
// reason wins, as in ECS.
func (t *taskRun) stopTask(reason string) {
	if t.task.Status.StoppingReason != "" {
		return
	}
	t.task.Status.StoppingReason = reason
	t.task.Status.StoppingAt = microTime(t.now)
	t.log.Info("stopping task", "reason", reason)
	t.event(apiv1.EventWarning, "Stopping", "%s", reason)
}

// summarize derives the task's known status from its containers: the
// least advanced container sets it, as in ECS.
func (t *taskRun) summarize() {
	st := &t.task.Status
	if st.KnownStatus == apiv1.StatusStopped {
		return
	}
	if st.KnownStatus == "" {
		st.KnownStatus = apiv1.StatusNone
	}
	least := apiv1.StatusRunning
	for i := range st.Containers {
		cs := &st.Containers[i]
		s := cs.KnownStatus
		if s == apiv1.StatusStopped {
			// Ran and exited, or a non-essential container that could
			// not start: either way it holds the task back no more.
			s = apiv1.StatusRunning
		}
		if rank(s) < rank(least) {
			least = s
		}
	}
	if rank(least) > rank(st.KnownStatus) {
		st.KnownStatus = least
		if least == apiv1.StatusRunning && st.StartedAt == nil {
			st.StartedAt = microTime(t.now)
			t.event(apiv1.EventNormal, "Running", "all containers started")
			taskTransitions.WithLabelValues(string(apiv1.StatusRunning)).Inc()
			taskStartSeconds.Observe(t.now.Sub(t.task.CreationTimestamp.Time).Seconds())
		}
	}
}

func rank(s apiv1.TaskStatusName) int {
	switch s {
	case apiv1.StatusPulled:
		return 1
	case apiv1.StatusCreated:
		return 2
	case apiv1.StatusRunning:
		return 3
	case apiv1.StatusStopped:
		return 4
	}
	return 0
}
