package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/statechange"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// StateSubmitter sends state changes to the control plane;
// internal/controlplane implements it over the ECS API. A nil error means
// the control plane acknowledged the change.
type StateSubmitter interface {
	SubmitTaskState(ctx context.Context, r statechange.Task) error
	SubmitContainerState(ctx context.Context, r statechange.Container) error
}

// ReportReconciler tells the control plane about every transition of the
// tasks it gave us, in lifecycle order per task and once each: the last
// status the control plane acknowledged is recorded in the task's
// TaskReport, which this reconciler alone writes, before anything else
// happens, so a restarted agent recomputes what is still owed from the
// store alone. (The tasks reconciler copies the acknowledgements into the
// task's status for display: it stays that status's only writer.)
//
// Like the ECS agent it reports RUNNING and STOPPED; PENDING is where ECS
// itself puts a task when it places it. A task that ran is reported RUNNING
// before STOPPED even if both happened while the control plane was out of
// reach, so no transition is skipped. A crash between the control plane's
// answer and the write of the acknowledgement sends that one change again:
// ECS takes a repeated state as a no-op.
type ReportReconciler struct {
	Store     store.Store
	Submitter StateSubmitter
	// Now is the clock; nil means time.Now.
	Now Clock
}

// tombstoneTTL is how long the report of a task outlives the task when the
// control plane refused one of its reports (TaskReportStatus.RefusedAt).
const tombstoneTTL = 24 * time.Hour

var _ reconcile.Reconciler = (*ReportReconciler)(nil)

// maxReportsPerPass bounds the reports one pass sends before it lets other
// tasks have the worker; the acknowledgement write requeues the task.
const maxReportsPerPass = 8

// Reconcile implements reconcile.Reconciler.
func (r *ReportReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	log := log.FromContext(ctx).WithValues("task", req.Name)
	ctx = logr.NewContext(ctx, log)
	for range maxReportsPerPass {
		var task apiv1.Task
		if err := r.Store.Get(ctx, req.Name, &task); errors.Is(err, store.ErrNotFound) {
			return r.forget(ctx, req.Name)
		} else if err != nil {
			return reconcile.Result{}, fmt.Errorf("get task %s: %w", req.Name, err)
		}
		if task.Spec.Source != apiv1.SourceECS {
			return reconcile.Result{}, nil
		}
		rep, err := r.report(ctx, &task)
		if err != nil {
			return reconcile.Result{}, err
		}
		next := nextReport(acknowledged(&task, rep))
		if next == nil {
			return reconcile.Result{}, nil
		}
		if err := next.send(ctx, r.Submitter); errors.Is(err, statechange.ErrRefused) {
			// Never taken: not sent again, and remembered (see RefusedAt).
			log.Error(err, "the control plane refused a state change for good; not retrying", "change", next.what())
			rep.Status.RefusedAt = microTime(r.now())
			rep.Status.RefusedReason = err.Error()
		} else if err != nil {
			return reconcile.Result{}, fmt.Errorf("report %s of task %s: %w", next.what(), task.Name, err)
		}
		next.acknowledge(&rep.Status)
		if err := r.save(ctx, rep); err != nil {
			return reconcile.Result{}, fmt.Errorf("record report %s of task %s: %w", next.what(), task.Name, err)
		}
		log.V(1).Info("reported", "change", next.what())
	}
	return reconcile.Result{Requeue: true}, nil
}

// report reads the task's TaskReport, or starts one from what the task's
// status says was acknowledged (a store written before TaskReport
// existed).
func (r *ReportReconciler) report(ctx context.Context, task *apiv1.Task) (*apiv1.TaskReport, error) {
	rep := &apiv1.TaskReport{}
	err := r.Store.Get(ctx, task.Name, rep)
	if err == nil {
		return rep, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("get report of task %s: %w", task.Name, err)
	}
	rep.Name = task.Name
	rep.Status.TaskStatus = task.Status.ReportedStatus
	for _, cs := range task.Status.Containers {
		if cs.ReportedStatus != "" {
			if rep.Status.Containers == nil {
				rep.Status.Containers = map[string]apiv1.TaskStatusName{}
			}
			rep.Status.Containers[cs.Name] = cs.ReportedStatus
		}
	}
	return rep, nil
}

func (r *ReportReconciler) save(ctx context.Context, rep *apiv1.TaskReport) error {
	if rep.ResourceVersion == "" {
		return r.Store.Create(ctx, rep)
	}
	return r.Store.UpdateStatus(ctx, rep)
}

// forget deletes the report of a task that is gone, once it is no longer
// needed as a tombstone (see TaskReportStatus.RefusedAt).
func (r *ReportReconciler) forget(ctx context.Context, name string) (reconcile.Result, error) {
	rep := &apiv1.TaskReport{}
	if err := r.Store.Get(ctx, name, rep); errors.Is(err, store.ErrNotFound) {
		return reconcile.Result{}, nil
	} else if err != nil {
		return reconcile.Result{}, fmt.Errorf("get report of task %s: %w", name, err)
	}
	if at := rep.Status.RefusedAt; at != nil {
		if left := tombstoneTTL - r.now().Sub(at.Time); left > 0 {
			return reconcile.Result{RequeueAfter: left}, nil
		}
	}
	if err := r.Store.Delete(ctx, rep); err != nil && !errors.Is(err, store.ErrNotFound) {
		return reconcile.Result{}, fmt.Errorf("forget report of task %s: %w", name, err)
	}
	return reconcile.Result{}, nil
}

func (r *ReportReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// acknowledged is the task as nextReport reads it: with the report's
// acknowledgements in place of the status's copy of them.
func acknowledged(task *apiv1.Task, rep *apiv1.TaskReport) *apiv1.Task {
	view := task.DeepCopy()
	view.Status.ReportedStatus = rep.Status.TaskStatus
	for i := range view.Status.Containers {
		cs := &view.Status.Containers[i]
		cs.ReportedStatus = rep.Status.Containers[cs.Name]
	}
	return view
}

// RateLimiter is the reporter's retry backoff: per task from 200ms doubling
// to 15s, so that reports resume within seconds once the control plane is
// back (controller-runtime's default grows to 1000s).
func (r *ReportReconciler) RateLimiter() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](200*time.Millisecond, 15*time.Second),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(50), 200)},
	)
}

// report is the next change a task owes the control plane: a task change
// (with the containers it carries) or one container change.
type report struct {
	task      *statechange.Task
	container *statechange.Container
}

func (p *report) send(ctx context.Context, s StateSubmitter) error {
	if p.task != nil {
		return s.SubmitTaskState(ctx, *p.task)
	}
	return s.SubmitContainerState(ctx, *p.container)
}

func (p *report) what() string {
	if p.task != nil {
		return "task " + string(p.task.Status)
	}
	return fmt.Sprintf("container %s %s", p.container.ContainerName, p.container.Status)
}

// acknowledge records the report as accepted. It only ever raises an
// acknowledged status, so applying it twice is harmless.
func (p *report) acknowledge(st *apiv1.TaskReportStatus) {
	ack := func(cr statechange.Container) {
		if rank(st.Containers[cr.ContainerName]) < rank(cr.Status) {
			if st.Containers == nil {
				st.Containers = map[string]apiv1.TaskStatusName{}
			}
			st.Containers[cr.ContainerName] = cr.Status
		}
	}
	if p.task == nil {
		ack(*p.container)
		return
	}
	for _, cr := range p.task.Containers {
		ack(cr)
	}
	if rank(st.TaskStatus) < rank(p.task.Status) {
		st.TaskStatus = p.task.Status
	}
}

// nextReport is the first change in lifecycle order that the task owes the
// control plane, or nil:
//  1. task RUNNING, once the task has run, with every container that ran;
//  2. then, per container in definition order, RUNNING for one that started
//     later and STOPPED for one that stopped while the task went on;
//  3. task STOPPED, with every container's final state.
func nextReport(t *apiv1.Task) *report {
	st := &t.Status
	ran := st.StartedAt != nil || st.KnownStatus == apiv1.StatusRunning
	stopped := st.KnownStatus == apiv1.StatusStopped
	if ran && rank(st.ReportedStatus) < rank(apiv1.StatusRunning) {
		tr := taskReport(t, apiv1.StatusRunning)
		for _, c := range t.Spec.Containers {
			if cs := st.ContainerStatusFor(c.Name); cs != nil && containerRan(cs) && rank(cs.ReportedStatus) < rank(apiv1.StatusRunning) {
				tr.Containers = append(tr.Containers, containerReport(t, cs, apiv1.StatusRunning))
			}
		}
		return &report{task: tr}
	}
	if st.ReportedStatus == apiv1.StatusRunning {
		for _, c := range t.Spec.Containers {
			cs := st.ContainerStatusFor(c.Name)
			switch {
			case cs == nil:
			case containerRan(cs) && rank(cs.ReportedStatus) < rank(apiv1.StatusRunning):
				return &report{container: ptr.To(containerReport(t, cs, apiv1.StatusRunning))}
			case !stopped && cs.KnownStatus == apiv1.StatusStopped && cs.ReportedStatus != apiv1.StatusStopped:
				return &report{container: ptr.To(containerReport(t, cs, apiv1.StatusStopped))}
			}
		}
	}
	if stopped && st.ReportedStatus != apiv1.StatusStopped {
		tr := taskReport(t, apiv1.StatusStopped)
		tr.Reason = truncate(st.StoppedReason, statechange.MaxTaskReasonLength)
		if st.StoppedAt != nil {
			tr.ExecutionStoppedAt = ptr.To(st.StoppedAt.Time)
		}
		for _, c := range t.Spec.Containers {
			if cs := st.ContainerStatusFor(c.Name); cs != nil && cs.ReportedStatus != apiv1.StatusStopped {
				tr.Containers = append(tr.Containers, containerReport(t, cs, apiv1.StatusStopped))
			}
		}
		return &report{task: tr}
	}
	return nil
}

func containerRan(cs *apiv1.ContainerStatus) bool {
	return cs.StartedAt != nil || cs.KnownStatus == apiv1.StatusRunning
}

func taskReport(t *apiv1.Task, status apiv1.TaskStatusName) *statechange.Task {
	tr := &statechange.Task{Cluster: t.Spec.Cluster, TaskArn: t.Spec.Arn, Status: status}
	if t.Status.PullStartedAt != nil {
		tr.PullStartedAt = ptr.To(t.Status.PullStartedAt.Time)
	}
	if t.Status.PullStoppedAt != nil {
		tr.PullStoppedAt = ptr.To(t.Status.PullStoppedAt.Time)
	}
	return tr
}

func containerReport(t *apiv1.Task, cs *apiv1.ContainerStatus, status apiv1.TaskStatusName) statechange.Container {
	cr := statechange.Container{
		Cluster:       t.Spec.Cluster,
		TaskArn:       t.Spec.Arn,
		ContainerName: cs.Name,
		RuntimeID:     cs.DockerID,
		ImageDigest:   cs.ImageDigest,
		Status:        status,
	}
	if status == apiv1.StatusStopped {
		cr.ExitCode = cs.ExitCode
		cr.Reason = truncate(cs.Reason, statechange.MaxContainerReasonLength)
	} else {
		cr.NetworkBindings = cs.Ports
	}
	return cr
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
