package controllers

import (
	"context"
	"errors"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// PortReconciler lets go of the host ports a task holds once the task is
// STOPPED or gone. It is keyed by task name. Allocation itself happens in the
// tasks reconciler, before a container is created, so a port is recorded
// before anything uses it.
type PortReconciler struct {
	Store store.Store
}

var _ reconcile.Reconciler = (*PortReconciler)(nil)

// Reconcile implements reconcile.Reconciler.
func (r *PortReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var task apiv1.Task
	err := r.Store.Get(ctx, req.Name, &task)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("get task %s: %w", req.Name, err)
	case task.Status.KnownStatus != apiv1.StatusStopped:
		// Docker holds a stopped container's ports no more, so the task's
		// ports are free once every container has stopped.
		return reconcile.Result{}, nil
	}
	var list apiv1.PortAllocationList
	if err := r.Store.List(ctx, &list); err != nil {
		return reconcile.Result{}, fmt.Errorf("list port allocations: %w", err)
	}
	for i := range list.Items {
		pa := &list.Items[i]
		if pa.Spec.Task != req.Name {
			continue
		}
		if err := r.Store.Delete(ctx, pa); err != nil && !errors.Is(err, store.ErrNotFound) {
			return reconcile.Result{}, fmt.Errorf("release host port %d/%s of task %s: %w", pa.Spec.HostPort, pa.Spec.Protocol, req.Name, err)
		}
		log.FromContext(ctx).V(1).Info("released host port", "task", req.Name, "port", pa.Spec.HostPort, "protocol", pa.Spec.Protocol)
	}
	return reconcile.Result{}, nil
}
