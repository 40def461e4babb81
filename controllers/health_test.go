package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate/dockerfake"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

// TestSetIsUnhealthyWhileAReconcileHangs runs the whole set over the Docker
// fake and hangs the task's container create: the set is healthy while it
// runs normally, and unhealthy, naming the controller, the task and the
// bound, once the hung reconcile outlives the task controller's bound.
func TestSetIsUnhealthyWhileAReconcileHangs(t *testing.T) {
	f := newFixture(t)
	set := &Set{
		Store: f.store, Docker: f.docker, Tasks: f.r, Log: logr.Discard(),
		Images:     &ImageReconciler{Store: f.store, Docker: f.docker, Now: time.Now},
		Ports:      &PortReconciler{Store: f.store},
		StuckAfter: map[string]time.Duration{"task": 300 * time.Millisecond},
	}
	if err := set.Healthy(); err == nil {
		t.Fatal("Healthy() = nil before the set runs, want an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- set.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	testwait.For(t, "set started and healthy", 5*time.Second, 10*time.Millisecond, func() (bool, string) {
		err := set.Healthy()
		return err == nil, errString(err)
	})

	f.docker.Hang(dockerfake.CreateContainer, 1)
	f.addTask("t1", ctr("app"))
	testwait.For(t, "the hung reconcile to make the set unhealthy", 5*time.Second, 20*time.Millisecond, func() (bool, string) {
		err := set.Healthy()
		return err != nil && strings.Contains(err.Error(), "task controller has been reconciling t1"), errString(err)
	})
	if err := set.Healthy(); !strings.Contains(err.Error(), "limit 300ms") {
		t.Errorf("Healthy() = %v, want the bound named", err)
	}
}

func errString(err error) string {
	if err == nil {
		return "healthy"
	}
	return err.Error()
}
