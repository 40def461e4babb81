package controlplane

import (
	"context"
	"strconv"
	"sync"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/tcs"
	"github.com/ecs-agent/ecs-agent/internal/version"
)

// UsageSampler gives a container's CPU (percent of one CPU) and memory
// (MiB) figures since the last call, as the stats sampler keeps them; ok
// is false when it has none.
type UsageSampler interface {
	Drain(dockerID string) (cpu, memoryMiB tcs.StatsSet, ok bool)
}

// newTelemetry builds the TCS session of a registered instance.
func (s *Source) newTelemetry(arn string, d *discovery) *tcs.Session {
	ts := &telemetrySource{store: s.Store, usage: s.Usage, runtimeDownSince: s.RuntimeDownSince,
		heartbeat: func() time.Time { return s.session.Status().LastHeartbeatAt }, started: time.Now()}
	return &tcs.Session{
		Discover: d.telemetry,
		Params: tcs.Params{Cluster: s.Registration.Cluster, ContainerInstance: arn,
			AgentVersion: version.Version, AgentHash: agentHash(version.Version), DockerVersion: s.dockerVersion},
		Credentials:    s.Client.AWS.Credentials,
		Region:         s.Client.Region,
		Source:         ts,
		DisableMetrics: s.Usage == nil,
		Log:            s.Log.WithName("tcs"),
		Timing:         s.TelemetryTiming,
	}
}

// telemetrySource reads a publish cycle from the store (the ECS tasks and
// their containers' health), the stats sampler and the Docker connection.
type telemetrySource struct {
	store            store.Store
	usage            UsageSampler
	runtimeDownSince func() time.Time
	heartbeat        func() time.Time
	started          time.Time

	mu sync.Mutex
	// sentAt is when the instance status last went; changed holds each
	// status type's last change, for lastStatusChange.
	sentAt  time.Time
	changed map[string]statusChange
}

type statusChange struct {
	status string
	at     time.Time
}

// running lists the ECS tasks whose containers run: telemetry is only of
// tasks ECS placed (a static task's made-up ARN means nothing to ECS).
func (t *telemetrySource) running(ctx context.Context) []apiv1.Task {
	var list apiv1.TaskList
	if err := t.store.List(ctx, &list); err != nil {
		return nil
	}
	var out []apiv1.Task
	for _, task := range list.Items {
		if task.Spec.Source == apiv1.SourceECS && task.Status.KnownStatus == apiv1.StatusRunning {
			out = append(out, task)
		}
	}
	return out
}

// Cycle reads the store once for the cycle's metrics and health.
func (t *telemetrySource) Cycle(ctx context.Context, metrics bool) tcs.Cycle {
	tasks := t.running(ctx)
	c := tcs.Cycle{Health: t.taskHealth(tasks)}
	if metrics && t.usage != nil {
		c.Metrics = t.taskMetrics(tasks)
	}
	c.Statuses, c.StatusDue = t.instanceStatuses()
	return c
}

func (t *telemetrySource) taskMetrics(tasks []apiv1.Task) []tcs.TaskMetric {
	var out []tcs.TaskMetric
	for _, task := range tasks {
		m := tcs.TaskMetric{TaskArn: task.Spec.Arn, TaskDefinitionFamily: task.Spec.Family,
			TaskDefinitionVersion: strconv.FormatInt(task.Spec.Revision, 10)}
		for _, c := range task.Status.Containers {
			if c.DockerID == "" || c.KnownStatus != apiv1.StatusRunning {
				continue
			}
			cpu, mem, ok := t.usage.Drain(c.DockerID)
			if !ok {
				continue
			}
			m.ContainerMetrics = append(m.ContainerMetrics, tcs.ContainerMetric{ContainerName: c.Name, CPUStatsSet: &cpu, MemoryStatsSet: &mem})
		}
		if len(m.ContainerMetrics) > 0 {
			out = append(out, m)
		}
	}
	return out
}

func (t *telemetrySource) taskHealth(tasks []apiv1.Task) []tcs.TaskHealth {
	var out []tcs.TaskHealth
	for _, task := range tasks {
		h := tcs.TaskHealth{TaskArn: task.Spec.Arn, TaskDefinitionFamily: task.Spec.Family,
			TaskDefinitionVersion: strconv.FormatInt(task.Spec.Revision, 10)}
		for _, spec := range task.Spec.Containers {
			st := task.Status.ContainerStatusFor(spec.Name)
			if spec.HealthCheck == nil || st == nil || st.Health == nil {
				continue
			}
			// The check's output is the container's to print, not ours to
			// send: it may carry anything the command wrote.
			ch := tcs.ContainerHealth{ContainerName: spec.Name, HealthStatus: healthStatus(st.Health.Status)}
			if st.Health.Since != nil {
				ch.StatusSince = tcs.Timestamp(st.Health.Since.Time)
			}
			h.Containers = append(h.Containers, ch)
		}
		if len(h.Containers) > 0 {
			out = append(out, h)
		}
	}
	return out
}

// healthStatus maps a container's health to ECS's three values.
func healthStatus(s string) string {
	switch s {
	case apiv1.HealthHealthy:
		return tcs.HealthHealthy
	case apiv1.HealthUnhealthy:
		return tcs.HealthUnhealthy
	}
	return tcs.HealthUnknown
}

// InstanceStatuses are the agent's and the container runtime's health,
// due once per ACS heartbeat received since they last went.
func (t *telemetrySource) instanceStatuses() ([]tcs.InstanceStatus, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	runtime, reason := tcs.InstanceOK, ""
	if t.runtimeDownSince != nil {
		if down := t.runtimeDownSince(); !down.IsZero() {
			runtime, reason = tcs.InstanceImpaired, "the Docker daemon has not answered since "+down.UTC().Format(time.RFC3339)
		}
	}
	statuses := []tcs.InstanceStatus{
		t.status(tcs.InstanceStatusAgent, tcs.InstanceOK, "", now),
		t.status(tcs.InstanceStatusContainerRuntime, runtime, reason, now),
	}
	hb := time.Time{}
	if t.heartbeat != nil {
		hb = t.heartbeat()
	}
	if hb.IsZero() || !hb.After(t.sentAt) {
		return statuses, false
	}
	t.sentAt = now
	return statuses, true
}

// status is one check's entry, noting when its value last changed.
func (t *telemetrySource) status(typ, status, reason string, now time.Time) tcs.InstanceStatus {
	if t.changed == nil {
		t.changed = map[string]statusChange{}
	}
	c, ok := t.changed[typ]
	if !ok || c.status != status {
		c = statusChange{status: status, at: now}
		if !ok {
			c.at = t.started
		}
		t.changed[typ] = c
	}
	return tcs.InstanceStatus{Type: typ, Status: status, StatusReason: reason, LastUpdated: tcs.Timestamp(now), LastStatusChange: tcs.Timestamp(c.at)}
}
