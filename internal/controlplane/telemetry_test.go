package controlplane

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/tcs"
)

// usageOf hands out a fixed set per Docker id, once, as the sampler's
// Drain does.
type usageOf map[string]tcs.StatsSet

func (u usageOf) Drain(id string) (cpu, mem tcs.StatsSet, ok bool) {
	s, ok := u[id]
	delete(u, id)
	return s, s, ok
}

func telemetryTask(name string, src apiv1.TaskSource, status apiv1.TaskStatusName, health *apiv1.HealthStatus) *apiv1.Task {
	t := &apiv1.Task{ObjectMeta: metav1.ObjectMeta{Name: name}}
	t.Spec.Arn, t.Spec.Family, t.Spec.Revision, t.Spec.Source = "arn:"+name, name, 3, src
	t.Spec.Containers = []apiv1.ContainerSpec{{Name: "app", HealthCheck: &apiv1.HealthCheck{Command: []string{"CMD", "true"}}}, {Name: "side"}}
	t.Status.KnownStatus = status
	t.Status.Containers = []apiv1.ContainerStatus{
		{Name: "app", DockerID: name + "-app", KnownStatus: status, Health: health},
		{Name: "side", DockerID: name + "-side", KnownStatus: status},
	}
	return t
}

func TestTelemetryIsOfRunningECSTasksAndStatusGoesOncePerHeartbeat(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	since := metav1.NewMicroTime(time.UnixMilli(1746802078031))
	for _, task := range []*apiv1.Task{
		telemetryTask("web", apiv1.SourceECS, apiv1.StatusRunning, &apiv1.HealthStatus{Status: apiv1.HealthUnhealthy, Output: "secret output", Since: &since}),
		telemetryTask("static", apiv1.SourceStatic, apiv1.StatusRunning, &apiv1.HealthStatus{Status: apiv1.HealthHealthy}),
		telemetryTask("gone", apiv1.SourceECS, apiv1.StatusStopped, nil),
	} {
		if err := st.Create(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	set := tcs.StatsSet{Min: 1, Max: 2, SampleCount: 2, Sum: 3}
	var heartbeat time.Time
	var down time.Time
	src := &telemetrySource{store: st, usage: usageOf{"web-app": set, "static-app": set, "gone-app": set},
		heartbeat: func() time.Time { return heartbeat }, runtimeDownSince: func() time.Time { return down }, started: time.Now()}

	c := src.Cycle(ctx, true)
	m := c.Metrics
	if len(m) != 1 || m[0].TaskArn != "arn:web" || m[0].TaskDefinitionVersion != "3" || len(m[0].ContainerMetrics) != 1 || *m[0].ContainerMetrics[0].CPUStatsSet != set {
		t.Errorf("metrics %+v; want the running ECS task's one sampled container", m)
	}
	if m := src.Cycle(ctx, true).Metrics; len(m) != 0 {
		t.Errorf("a second cycle with no new samples has %d tasks; want none", len(m))
	}
	if c := src.Cycle(ctx, false); c.Metrics != nil || len(c.Health) != 1 {
		t.Errorf("a cycle without metrics: %d metrics, %d health; want none and web's", len(c.Metrics), len(c.Health))
	}
	h := c.Health
	if len(h) != 1 || len(h[0].Containers) != 1 || h[0].Containers[0] != (tcs.ContainerHealth{ContainerName: "app", HealthStatus: tcs.HealthUnhealthy, StatusSince: tcs.Timestamp(since.Time)}) {
		t.Errorf("health %+v; want web's app UNHEALTHY since its time, without the check's output", h)
	}

	if c.StatusDue {
		t.Errorf("instance status due before any ACS heartbeat")
	}
	heartbeat = time.Now()
	c = src.Cycle(ctx, false)
	statuses, due := c.Statuses, c.StatusDue
	if !due || len(statuses) != 2 || statuses[1].Type != tcs.InstanceStatusContainerRuntime || statuses[1].Status != tcs.InstanceOK {
		t.Errorf("after a heartbeat: due %v, %+v; want Agent and ContainerRuntime OK", due, statuses)
	}
	if src.Cycle(ctx, false).StatusDue {
		t.Errorf("due twice for one heartbeat")
	}
	down, heartbeat = time.Now(), time.Now().Add(time.Millisecond)
	c = src.Cycle(ctx, false)
	statuses, due = c.Statuses, c.StatusDue
	if !due || statuses[1].Status != tcs.InstanceImpaired || statuses[1].StatusReason == "" || !statuses[1].LastStatusChange.Time().After(src.started) {
		t.Errorf("Docker down: due %v, %+v; want ContainerRuntime IMPAIRED with a reason and a new lastStatusChange", due, statuses[1])
	}
}
