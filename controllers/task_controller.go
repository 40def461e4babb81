package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/taskcgroup"
)

// PortAllocator gives a container its host ports; ports.Allocator is one.
type PortAllocator interface {
	Allocate(ctx context.Context, task *apiv1.Task, c *apiv1.ContainerSpec) ([]apiv1.PortBinding, error)
}

// TaskCgroups makes the cgroup a task's containers share, which enforces
// the task-level cpu and memory (ECS_ENABLE_TASK_CPU_MEM_LIMIT);
// *taskcgroup.Manager is one.
type TaskCgroups interface {
	// Ensure creates or updates the task's cgroup and returns the cgroup
	// parent of its containers.
	Ensure(ctx context.Context, task string, limits taskcgroup.Limits) (string, error)
	// Remove removes the task's cgroup once its containers are gone.
	Remove(task string) error
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
	// SELinuxCapable and AppArmorCapable are ECS_SELINUX_CAPABLE and
	// ECS_APPARMOR_CAPABLE: whether a container may ask for a label or a
	// profile.
	SELinuxCapable, AppArmorCapable bool
	// PullBehavior is ECS_IMAGE_PULL_BEHAVIOR (apiv1.PullDefault, …). With ""
	// a task uses an image on the host without asking for a pull.
	PullBehavior apiv1.PullBehavior
	// Region is the agent's region, which containers get as AWS_REGION and
	// AWS_DEFAULT_REGION unless their definition or image sets them; ""
	// (offline without a region) gives them none.
	Region string
	// TaskIAMRole is ECS_ENABLE_TASK_IAM_ROLE: tasks with a task role run
	// (bridge and none network modes).
	TaskIAMRole bool
	// TaskIAMRoleNetworkHost is ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST:
	// host-network tasks with a task role run.
	TaskIAMRoleNetworkHost bool
}

// TaskReconciler drives one task's containers through the ECS lifecycle:
// ports, images, create and start in dependency order, watch exits, stop in
// reverse order with SIGTERM then SIGKILL, and clean up after the wait.
type TaskReconciler struct {
	Store  store.Store
	Docker TaskDocker
	Ports  PortAllocator
	// Cgroups is nil when task-level cpu and memory are not enforced
	// (ECS_ENABLE_TASK_CPU_MEM_LIMIT=false).
	Cgroups TaskCgroups
	Events  Recorder
	Now     Clock
	Opts    TaskOptions

	// Credentials tells whether a task's roles have their credentials;
	// nil holds none, so tasks with a role wait.
	Credentials HeldCredentials
	// Secrets reads containers' secrets; nil refuses containers that have
	// any.
	Secrets SecretReader

	// signalled holds the containers this process sent a stop signal to
	// (docker id → struct{}).
	signalled sync.Map
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
	if err := t.copyReport(ctx); err != nil {
		return reconcile.Result{}, err
	}

	// The pass is the kubelet's syncPod / syncTerminatingPod /
	// syncTerminatedPod: each step reports, and only this decides
	// between running, stopping and cleaning up.
	var res step
	var err error
	if task.Status.KnownStatus == apiv1.StatusStopped {
		res, err = t.syncTerminated(ctx)
		if res.deleted {
			return reconcile.Result{}, err
		}
	} else {
		if task.Spec.DesiredStatus == apiv1.StatusStopped {
			t.stopTask(t.desiredStopReason())
		}
		if task.Status.StoppingReason == "" {
			res, err = t.syncRunning(ctx)
			if err == nil && res.stopReason != "" {
				t.stopTask(res.stopReason)
			}
		}
		if err == nil && task.Status.StoppingReason != "" {
			res, err = t.syncTerminating(ctx)
		}
	}
	t.summarize()
	if werr := r.writeStatus(ctx, &task, before); werr != nil {
		return reconcile.Result{}, errors.Join(err, werr)
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	after := res.requeueAfter
	if after == 0 || after > resyncAfter {
		after = resyncAfter
	}
	return reconcile.Result{RequeueAfter: after}, nil
}

// writeStatus stores the task's status unless it is unchanged. The tasks
// reconciler is the status's only writer, so the write cannot conflict: a
// spec changed meanwhile is kept, and its watch event requeues the task.
func (r *TaskReconciler) writeStatus(ctx context.Context, task *apiv1.Task, before *apiv1.TaskStatus) error {
	if equality.Semantic.DeepEqual(before, &task.Status) {
		return nil
	}
	if err := r.Store.UpdateStatus(ctx, task); err != nil {
		return fmt.Errorf("write status of task %s: %w", task.Name, err)
	}
	return nil
}

// store writes the task's status now, in the middle of a pass, before an
// action that depends on it. The store reads the task back into t.task,
// whose slices are then new: pointers into the old ones must be taken
// again.
func (t *taskRun) store(ctx context.Context, what string) error {
	if err := t.r.Store.UpdateStatus(ctx, t.task); err != nil {
		return fmt.Errorf("record %s of task %s: %w", what, t.task.Name, err)
	}
	return nil
}

// taskRun is one pass of the reconciler over one task.
type taskRun struct {
	r    *TaskReconciler
	task *apiv1.Task
	now  time.Time
	log  logr.Logger
	// pauseID is the pause container whose namespaces the task's
	// containers join (pidMode or ipcMode "task"), once syncRunning made
	// sure it runs.
	pauseID string
	// creds are the task's credentials ids, once ensureCredentials found
	// them all held.
	creds *roleCredentials
	// unstored says observe gave containers their metadata ids and Docker
	// names in this pass: they are stored before any container is created.
	unstored bool
}

// copyReport copies what the control plane acknowledged (the reporter's
// TaskReport) into the task's status, where `describe task` and cleanup
// read it.
func (t *taskRun) copyReport(ctx context.Context) error {
	if t.task.Spec.Source != apiv1.SourceECS {
		return nil
	}
	var rep apiv1.TaskReport
	if err := t.r.Store.Get(ctx, t.task.Name, &rep); errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("get report of task %s: %w", t.task.Name, err)
	}
	st := &t.task.Status
	if rank(st.ReportedStatus) < rank(rep.Status.TaskStatus) {
		st.ReportedStatus = rep.Status.TaskStatus
	}
	for i := range st.Containers {
		cs := &st.Containers[i]
		if r := rep.Status.Containers[cs.Name]; rank(cs.ReportedStatus) < rank(r) {
			cs.ReportedStatus = r
		}
	}
	return nil
}

func (t *taskRun) event(eventType, reason, format string, args ...any) {
	if t.r.Events != nil {
		t.r.Events.Eventf(t.task, eventType, reason, format, args...)
	}
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
	t.event(apiv1.EventWarning, "Stopping", "%s", t.stoppingSummary(reason))
}

// stoppingSummary is the Stopping event's message. When the reason is an
// essential container's failure, which its ContainerFailed event has just
// told in full, it names the container and the error only.
func (t *taskRun) stoppingSummary(reason string) string {
	for _, c := range t.task.Spec.Containers {
		if cs := t.task.Status.ContainerStatusFor(c.Name); c.Essential && cs.Reason == reason {
			name, _, ok := strings.Cut(reason, ":")
			if !ok || !strings.HasSuffix(name, "Error") {
				return reason
			}
			return fmt.Sprintf("essential container %s failed (%s)", c.Name, name)
		}
	}
	return reason
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
