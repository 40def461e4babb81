package tcs

import "time"

// Limits of one request, as TCS takes them.
const (
	// MaxTasksPerRequest is the most tasks a metrics or health request
	// carries.
	MaxTasksPerRequest = 10
	// MaxMessageBytes is the most a signed frame may weigh.
	MaxMessageBytes = 1 << 20
	// signatureAllowance is room left in a frame for its signed header
	// lines (a few hundred bytes, more with a session token).
	signatureAllowance = 4 << 10
)

// Head says whose telemetry a cycle is and names the cycle.
type Head struct {
	Cluster, ContainerInstance, MessageID string
	Time                                  time.Time
}

// MetricsRequests splits one cycle's task metrics into requests of at most
// MaxTasksPerRequest tasks and MaxMessageBytes, sharing the cycle's
// messageId, Fin on the last. With no task, the cycle is one request with
// Idle and Fin. A task too big for a request of its own is left out (and
// returned), since TCS would refuse the whole request.
func MetricsRequests(h Head, tasks []TaskMetric) (reqs []*PublishMetricsRequest, tooBig []TaskMetric) {
	newReq := func() *PublishMetricsRequest {
		return &PublishMetricsRequest{Metadata: &MetricsMetadata{Cluster: h.Cluster, ContainerInstance: h.ContainerInstance, MessageID: h.MessageID},
			TaskMetrics: []TaskMetric{}, Timestamp: Timestamp(h.Time)}
	}
	cur := newReq()
	for _, t := range tasks {
		if len(cur.TaskMetrics) == MaxTasksPerRequest {
			reqs, cur = append(reqs, cur), newReq()
		}
		cur.TaskMetrics = append(cur.TaskMetrics, t)
		if fits(cur) {
			continue
		}
		cur.TaskMetrics = cur.TaskMetrics[:len(cur.TaskMetrics)-1]
		alone := newReq()
		alone.TaskMetrics = append(alone.TaskMetrics, t)
		if !fits(alone) {
			tooBig = append(tooBig, t)
			continue
		}
		// It fits alone but not with the others: cur is not empty.
		reqs, cur = append(reqs, cur), alone
	}
	if len(cur.TaskMetrics) > 0 || len(reqs) == 0 {
		reqs = append(reqs, cur)
	}
	if len(reqs) == 1 && len(reqs[0].TaskMetrics) == 0 {
		reqs[0].Metadata.Idle = true
	}
	reqs[len(reqs)-1].Metadata.Fin = true
	return reqs, tooBig
}

// HealthRequests splits one cycle's task health into requests of at most
// MaxTasksPerRequest tasks, Fin on the last; none when no task has a
// container with a health check.
func HealthRequests(h Head, tasks []TaskHealth) []*PublishHealthRequest {
	var reqs []*PublishHealthRequest
	for i := 0; i < len(tasks); i += MaxTasksPerRequest {
		reqs = append(reqs, &PublishHealthRequest{
			Metadata: &HealthMetadata{Cluster: h.Cluster, ContainerInstance: h.ContainerInstance, MessageID: h.MessageID},
			Tasks:    tasks[i:min(i+MaxTasksPerRequest, len(tasks))], Timestamp: Timestamp(h.Time),
		})
	}
	if len(reqs) > 0 {
		reqs[len(reqs)-1].Metadata.Fin = true
	}
	return reqs
}

// fits tells whether a request's frame stays under MaxMessageBytes with
// room for its signature.
func fits(r *PublishMetricsRequest) bool {
	b, err := Encode(r)
	return err == nil && len(b)+signatureAllowance <= MaxMessageBytes
}
