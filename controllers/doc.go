// Package controllers holds the agent's reconcilers, one per concern: tasks,
// images, credentials and ports. Each is a controller-runtime reconcile.Reconciler keyed by
// object name. It reads the store and the Docker cache, acts, writes the
// status of the objects it owns, and returns; retries go through
// controller-runtime's rate-limited queue, and nothing here sleeps.
//
// Each kind's status has one writer, named in its type's doc comment (the
// tasks reconciler for Task, the images reconciler for Image, the reporter
// for TaskReport, the credentials reconciler for Credentials). That writer writes with Store.UpdateStatus, which cannot
// conflict; every other write (a task's pull request into an Image, image
// cleanup's removal mark) goes through store.Mutate, which reads, changes
// and writes in one store transaction and so cannot conflict either. So
// store.ErrConflict never reaches a reconciler's error path.
package controllers

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Recorder records events on objects for describe; events.Recorder is one.
type Recorder interface {
	Eventf(obj store.Object, eventType, reason, format string, args ...any)
}

// Clock tells the time; tests may replace it.
type Clock func() time.Time

func microTime(t time.Time) *metav1.MicroTime {
	m := metav1.NewMicroTime(t)
	return &m
}

// since is how long ago t was, zero for a nil t.
func since(now time.Time, t *metav1.MicroTime) time.Duration {
	if t == nil {
		return 0
	}
	return now.Sub(t.Time)
}
