package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// CredentialsHolder keeps task roles' credentials in memory and serves
// them by id; *credentials.Holder is one.
type CredentialsHolder interface {
	Bind(id string, k credentials.Key)
	Put(taskARN string, role apiv1.RoleType, c credentials.Credentials, src apiv1.CredentialsSource)
	Get(k credentials.Key) (credentials.Credentials, apiv1.CredentialsSource, bool)
	Forget(k credentials.Key)
}

// RoleAssumer gets a role's credentials with the agent's own;
// *credentials.STS is one.
type RoleAssumer interface {
	AssumeRole(ctx context.Context, roleArn, sessionName string) (credentials.Credentials, error)
}

// DefaultRefreshMargin is how long before they expire assumed-role
// credentials are renewed: a quarter of STS's default hour, so a failing
// STS has time to recover before any task notices.
const DefaultRefreshMargin = 15 * time.Minute

// CredentialsReconciler owns Credentials objects, keyed by task: for each
// role a task names it keeps one object (an id, no secret) and the role's
// credentials in the holder. ECS tasks' credentials come from ACS, which
// puts them in the holder; static tasks' are assumed with STS and renewed
// well before they expire. Task-role credentials are dropped when the task
// stops, execution-role ones when it is cleaned up (the ECS agent's
// order: the execution role still serves the stopped task's logs).
type CredentialsReconciler struct {
	Store  store.Store
	Holder CredentialsHolder
	// STS assumes static tasks' roles; nil leaves them without credentials
	// (the error says so).
	STS    RoleAssumer
	Events Recorder
	Now    Clock
	// RefreshMargin is DefaultRefreshMargin when zero. Credentials with
	// less than twice the margin to live are renewed halfway through
	// their life instead.
	RefreshMargin time.Duration
}

var _ reconcile.Reconciler = (*CredentialsReconciler)(nil)

// Reconcile implements reconcile.Reconciler; the request names a task.
func (r *CredentialsReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var task apiv1.Task
	err := r.Store.Get(ctx, req.Name, &task)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return reconcile.Result{}, r.drop(ctx, req.Name, "", apiv1.RoleTypeTask, apiv1.RoleTypeExecution)
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("get task %s: %w", req.Name, err)
	}
	var after wakeup
	var errs []error
	for _, role := range []apiv1.RoleType{apiv1.RoleTypeTask, apiv1.RoleTypeExecution} {
		arn := roleArn(&task, role)
		if arn == "" || (role == apiv1.RoleTypeTask && task.Status.KnownStatus == apiv1.StatusStopped) {
			errs = append(errs, r.drop(ctx, task.Name, task.Spec.Arn, role))
			continue
		}
		errs = append(errs, r.ensure(ctx, &task, role, arn, &after))
	}
	return reconcile.Result{RequeueAfter: after.d}, errors.Join(errs...)
}

func roleArn(t *apiv1.Task, role apiv1.RoleType) string {
	if role == apiv1.RoleTypeExecution {
		return t.Spec.ExecutionRoleArn
	}
	return t.Spec.TaskRoleArn
}

// ensure keeps one role's object and credentials: the object made (with a
// new id) if missing, its id bound in the holder, the credentials assumed
// or renewed for a static task, and the status written.
func (r *CredentialsReconciler) ensure(ctx context.Context, task *apiv1.Task, role apiv1.RoleType, arn string, after *wakeup) error {
	obj, err := r.object(ctx, task, role, arn)
	if err != nil {
		return err
	}
	key := credentials.Key{TaskARN: task.Spec.Arn, Role: role}
	r.Holder.Bind(obj.Spec.ID, key)
	before := obj.Status.DeepCopy()
	var fetchErr error
	if task.Spec.Source != apiv1.SourceECS {
		fetchErr = r.assume(ctx, task, obj, key, after)
	}
	if cur, src, ok := r.Holder.Get(key); ok {
		obj.Status.Source = src
		obj.Status.Expiration = microTime(cur.Expiration)
	}
	if !equality.Semantic.DeepEqual(before, &obj.Status) {
		if err := r.Store.UpdateStatus(ctx, obj); err != nil {
			return errors.Join(fetchErr, fmt.Errorf("write status of credentials %s: %w", obj.Name, err))
		}
	}
	return fetchErr
}

// object reads the role's Credentials, creating it with a new id.
func (r *CredentialsReconciler) object(ctx context.Context, task *apiv1.Task, role apiv1.RoleType, arn string) (*apiv1.Credentials, error) {
	name := apiv1.CredentialsName(task.Name, role)
	var obj apiv1.Credentials
	err := r.Store.Get(ctx, name, &obj)
	if err == nil {
		return &obj, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("get credentials %s: %w", name, err)
	}
	obj.Name = name
	obj.Spec = apiv1.CredentialsSpec{ID: credentials.NewID(), Task: task.Name, TaskArn: task.Spec.Arn, Role: role, RoleArn: arn}
	if err := r.Store.Create(ctx, &obj); err != nil {
		return nil, fmt.Errorf("create credentials %s: %w", name, err)
	}
	return &obj, nil
}

// assume gets a static task's role credentials from STS when none are
// held or they are due for renewal, and says when to look again. A failure
// keeps what is held (it may still be valid) and is recorded in the
// status; Failed marks one no retry can fix.
func (r *CredentialsReconciler) assume(ctx context.Context, task *apiv1.Task, obj *apiv1.Credentials, key credentials.Key, after *wakeup) error {
	now := r.Now()
	st := &obj.Status
	if _, _, held := r.Holder.Get(key); held && st.RefreshAt != nil && now.Before(st.RefreshAt.Time) {
		after.at(st.RefreshAt.Sub(now))
		return nil
	}
	if st.Failed {
		return nil // only a new task (a new definition) can change the answer
	}
	if r.STS == nil {
		st.Error, st.Failed = "no STS client: the agent cannot assume roles", true
		return nil
	}
	c, err := r.STS.AssumeRole(ctx, obj.Spec.RoleArn, "ecs-"+task.Name)
	if err != nil {
		st.Error, st.Failed = err.Error(), credentials.Permanent(err)
		r.event(task, apiv1.EventWarning, "CredentialsFailed", "assume %s %s: %v", roleWord(obj.Spec.Role), obj.Spec.RoleArn, err)
		log.FromContext(ctx).Info("assume role failed", "task", task.Name, "role", obj.Spec.RoleArn, "error", err.Error())
		if st.Failed {
			return nil
		}
		return fmt.Errorf("assume %s %s of task %s: %w", roleWord(obj.Spec.Role), obj.Spec.RoleArn, task.Name, err)
	}
	r.Holder.Put(key.TaskARN, key.Role, c, apiv1.CredentialsFromSTS)
	refresh := r.refreshAt(now, c.Expiration)
	st.Error, st.Failed = "", false
	st.LastRefresh, st.RefreshAt = microTime(now), microTime(refresh)
	after.at(refresh.Sub(now))
	return nil
}

// refreshAt is when credentials got at now and expiring at exp are renewed.
func (r *CredentialsReconciler) refreshAt(now, exp time.Time) time.Time {
	margin := r.RefreshMargin
	if margin <= 0 {
		margin = DefaultRefreshMargin
	}
	return exp.Add(-min(margin, exp.Sub(now)/2))
}

// drop deletes the task's Credentials of the roles and forgets their ids
// and keys. taskARN may be "" when the task is gone; the objects say it.
func (r *CredentialsReconciler) drop(ctx context.Context, task, taskARN string, roles ...apiv1.RoleType) error {
	for _, role := range roles {
		var obj apiv1.Credentials
		err := r.Store.Get(ctx, apiv1.CredentialsName(task, role), &obj)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if taskARN != "" {
				r.Holder.Forget(credentials.Key{TaskARN: taskARN, Role: role})
			}
			continue
		case err != nil:
			return fmt.Errorf("get credentials of task %s: %w", task, err)
		}
		r.Holder.Forget(credentials.Key{TaskARN: obj.Spec.TaskArn, Role: role})
		if err := r.Store.Delete(ctx, &obj); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete credentials %s: %w", obj.Name, err)
		}
	}
	return nil
}

func (r *CredentialsReconciler) event(task *apiv1.Task, eventType, reason, format string, args ...any) {
	if r.Events != nil {
		r.Events.Eventf(task, eventType, reason, format, args...)
	}
}

func roleWord(role apiv1.RoleType) string {
	if role == apiv1.RoleTypeExecution {
		return "execution role"
	}
	return "task role"
}
