package introspection

import (
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/taskdef"
)

// TopPath answers the CPU and memory use of the tasks not yet stopped,
// container by container (an apiv1.TaskMetricsList): what `ecs-agent top`
// shows. It is a literal path under the agent API, so no store resource
// may be called "top".
const TopPath = AgentAPIPrefix + "top"

// MetricsDisabledMessage is TopPath's answer (404) when the agent samples
// no Docker stats.
const MetricsDisabledMessage = "metrics are disabled on this agent (ECS_DISABLE_METRICS=true): " +
	"it samples no Docker stats, so it has no CPU or memory use to show; set ECS_DISABLE_METRICS=false and restart the agent"

// Stats gives a container's latest Docker stats sample; *dockerstate.Stats
// is one.
type Stats interface {
	Sample(dockerID string) (dockerstate.StatsSample, bool)
}

// top answers GET TopPath from the stats sampler's latest samples. Stopped
// tasks are left out: nothing of theirs runs, so they have nothing to show.
func (s *Server) top(w http.ResponseWriter, r *http.Request) {
	if s.opts.Stats == nil {
		// 404 rather than an empty list: an empty list would read as "no
		// tasks", zeros as "idle tasks"; neither is true.
		writeError(w, http.StatusNotFound, MetricsDisabledMessage)
		return
	}
	var tasks apiv1.TaskList
	if err := s.opts.Store.List(r.Context(), &tasks); err != nil {
		s.opts.Log.Error(err, "serve top")
		writeError(w, http.StatusInternalServerError, "list tasks: "+err.Error())
		return
	}
	list := &apiv1.TaskMetricsList{Items: []apiv1.TaskMetrics{}}
	list.SetGroupVersionKind(apiv1.GroupVersion.WithKind("TaskMetricsList"))
	for i := range tasks.Items {
		t := &tasks.Items[i]
		if t.Status.KnownStatus == apiv1.StatusStopped {
			continue
		}
		list.Items = append(list.Items, taskMetrics(t, s.opts.Stats))
	}
	writeJSON(w, http.StatusOK, list)
}

const mib = 1 << 20

// taskMetrics is t's containers' latest samples, in the order of its
// definition. /metrics reads the same figures, so the two never disagree.
func taskMetrics(t *apiv1.Task, stats Stats) apiv1.TaskMetrics {
	m := apiv1.TaskMetrics{
		ObjectMeta:  metav1.ObjectMeta{Name: t.Name, CreationTimestamp: t.CreationTimestamp},
		Arn:         t.Spec.Arn,
		Family:      t.Spec.Family,
		Revision:    t.Spec.Revision,
		KnownStatus: t.Status.KnownStatus,
		Containers:  make([]apiv1.ContainerMetrics, 0, len(t.Spec.Containers)),
	}
	m.SetGroupVersionKind(apiv1.GroupVersion.WithKind("TaskMetrics"))
	if m.KnownStatus == "" {
		m.KnownStatus = apiv1.StatusNone
	}
	if t.Spec.Memory != "" {
		// A task whose memory does not parse never started (its
		// definition error says why), so it has no limit to show.
		if n, err := taskdef.TaskMemory(t.Spec.Memory); err == nil {
			m.MemoryLimitBytes = ptr.To(n * mib)
		}
	}
	for i := range t.Spec.Containers {
		spec := &t.Spec.Containers[i]
		c := apiv1.ContainerMetrics{Name: spec.Name, KnownStatus: apiv1.StatusNone}
		if spec.Memory != nil {
			c.MemoryLimitBytes = ptr.To(*spec.Memory * mib)
		}
		if cs := t.Status.ContainerStatusFor(spec.Name); cs != nil {
			c.DockerID = cs.DockerID
			if cs.KnownStatus != "" {
				c.KnownStatus = cs.KnownStatus
			}
		}
		if c.DockerID != "" {
			// A stale sample is the use before an outage, not now.
			if sm, ok := stats.Sample(c.DockerID); ok && time.Since(sm.Read) <= dockerstate.StatsStale {
				at := metav1.NewMicroTime(sm.Read)
				c.SampledAt = &at
				if sm.HasCPU {
					c.CPUPercent = ptr.To(sm.CPUPercent)
				}
				if sm.HasMemory {
					c.MemoryBytes = ptr.To(int64(sm.MemoryBytes))
				}
			}
		}
		m.Containers = append(m.Containers, c)
	}
	return m
}
