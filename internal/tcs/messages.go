// Package tcs speaks TCS, the ECS Telemetry Connection Service: the
// websocket session through which the agent of a container instance sends
// its tasks' CPU and memory use (ECS turns them into the CloudWatch
// CPUUtilization and MemoryUtilization that service autoscaling tracks),
// its containers' Docker health (DescribeTasks' healthStatus comes only
// from here) and the instance's own health. It holds the messages, the
// upgrade URL, the batching of a publish cycle and the session with its
// timers; what goes into the messages is the caller's, through Source.
//
// The wire facts come from the ECS agent (protocols/ACS.md §5 in the
// design notes). Frames, signatures and backoff are shared with ACS
// (internal/ecsws); unlike ACS, every frame the agent sends is signed.
package tcs

import (
	"math"
	"strconv"
	"time"

	"github.com/ecs-agent/ecs-agent/internal/ecsws"
)

// Timestamp is a time as TCS takes it: a JSON number of seconds since the
// epoch, with milliseconds (1746802078.031).
type Timestamp time.Time

// MarshalJSON writes the seconds with three decimals.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1000, 'f', 3, 64), nil
}

// UnmarshalJSON reads seconds since the epoch.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return &timestampError{string(b)}
	}
	*t = Timestamp(time.UnixMilli(int64(math.Round(f * 1000))))
	return nil
}

// Time is the timestamp as a time.Time.
func (t Timestamp) Time() time.Time { return time.Time(t) }

type timestampError struct{ text string }

func (e *timestampError) Error() string {
	return "TCS timestamp " + strconv.Quote(e.text) + " is not a number of seconds since the epoch"
}

// StatsSet summarises the samples of one figure since the last publish.
type StatsSet struct {
	Min         float64 `json:"min"`
	Max         float64 `json:"max"`
	SampleCount int64   `json:"sampleCount"`
	Sum         float64 `json:"sum"`
}

// ContainerMetric is one container's use: CPU in percent of one vCPU (it
// can exceed 100), memory in MiB.
type ContainerMetric struct {
	ContainerArn   string    `json:"containerArn,omitempty"`
	ContainerName  string    `json:"containerName"`
	CPUStatsSet    *StatsSet `json:"cpuStatsSet,omitempty"`
	MemoryStatsSet *StatsSet `json:"memoryStatsSet,omitempty"`
}

// TaskMetric is one task's containers' use.
type TaskMetric struct {
	ClusterArn            string            `json:"clusterArn,omitempty"`
	TaskArn               string            `json:"taskArn"`
	TaskDefinitionFamily  string            `json:"taskDefinitionFamily"`
	TaskDefinitionVersion string            `json:"taskDefinitionVersion"`
	ContainerMetrics      []ContainerMetric `json:"containerMetrics"`
}

// MetricsMetadata heads each request of a metrics cycle: the cycle's
// requests share MessageID, the last has Fin, and a host with no task to
// report sends one request with Idle and Fin.
type MetricsMetadata struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	MessageID         string `json:"messageId"`
	Idle              bool   `json:"idle"`
	Fin               bool   `json:"fin"`
}

// PublishMetricsRequest carries at most MaxTasksPerRequest tasks.
type PublishMetricsRequest struct {
	Metadata    *MetricsMetadata `json:"metadata"`
	TaskMetrics []TaskMetric     `json:"taskMetrics"`
	Timestamp   Timestamp        `json:"timestamp"`
}

// HealthMetadata heads each request of a health cycle.
type HealthMetadata struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	MessageID         string `json:"messageId"`
	Fin               bool   `json:"fin"`
}

// Health statuses of a container, as ECS names them.
const (
	HealthHealthy   = "HEALTHY"
	HealthUnhealthy = "UNHEALTHY"
	HealthUnknown   = "UNKNOWN"
)

// ContainerHealth is a container's Docker health check result.
type ContainerHealth struct {
	ContainerName string    `json:"containerName"`
	HealthStatus  string    `json:"healthStatus"`
	StatusSince   Timestamp `json:"statusSince"`
	StatusMessage string    `json:"statusMessage,omitempty"`
}

// TaskHealth is the health of a task's containers that have a check.
type TaskHealth struct {
	ClusterArn            string            `json:"clusterArn,omitempty"`
	TaskArn               string            `json:"taskArn"`
	TaskDefinitionFamily  string            `json:"taskDefinitionFamily"`
	TaskDefinitionVersion string            `json:"taskDefinitionVersion"`
	Containers            []ContainerHealth `json:"containers"`
}

// PublishHealthRequest carries at most MaxTasksPerRequest tasks.
type PublishHealthRequest struct {
	Metadata  *HealthMetadata `json:"metadata"`
	Tasks     []TaskHealth    `json:"tasks"`
	Timestamp Timestamp       `json:"timestamp"`
}

// Instance status types and values, as ECS names them.
const (
	InstanceStatusContainerRuntime = "ContainerRuntime"
	InstanceStatusAgent            = "Agent"

	InstanceOK               = "OK"
	InstanceImpaired         = "IMPAIRED"
	InstanceInsufficientData = "INSUFFICIENT_DATA"
	InstanceInitializing     = "INITIALIZING"
)

// InstanceStatus is one health check of the instance.
type InstanceStatus struct {
	Type             string    `json:"type"`
	Status           string    `json:"status"`
	StatusReason     string    `json:"statusReason,omitempty"`
	LastUpdated      Timestamp `json:"lastUpdated"`
	LastStatusChange Timestamp `json:"lastStatusChange"`
}

// InstanceStatusMetadata heads an instance status request.
type InstanceStatusMetadata struct {
	Cluster           string `json:"cluster"`
	ContainerInstance string `json:"containerInstance"`
	RequestID         string `json:"requestId"`
}

// PublishInstanceStatusRequest carries the instance's health checks.
type PublishInstanceStatusRequest struct {
	Metadata  *InstanceStatusMetadata `json:"metadata"`
	Statuses  []InstanceStatus        `json:"statuses"`
	Timestamp Timestamp               `json:"timestamp"`
}

// HeartbeatMessage is TCS's keepalive; it and the acks are what keep a
// session from going silent.
type HeartbeatMessage struct {
	Healthy bool `json:"healthy"`
}

// AckPublishMetric acknowledges a PublishMetricsRequest.
type AckPublishMetric struct {
	Message string `json:"message,omitempty"`
}

// AckPublishHealth acknowledges a PublishHealthRequest.
type AckPublishHealth struct {
	Message string `json:"message,omitempty"`
}

// AckPublishInstanceStatus acknowledges a PublishInstanceStatusRequest.
type AckPublishInstanceStatus struct {
	Message string `json:"message,omitempty"`
}

// StopTelemetrySessionMessage asks the agent to end the session; it
// connects again.
type StopTelemetrySessionMessage struct {
	Message string `json:"message,omitempty"`
}

// Exception names of the TCS model.
const (
	ExceptionAccessDenied       = "AccessDeniedException"
	ExceptionBadRequest         = "BadRequestException"
	ExceptionInvalidParameter   = "InvalidParameterException"
	ExceptionResourceValidation = "ResourceValidationException"
	ExceptionServer             = "ServerException"
)

// Exception is a TCS exception, from a frame or a refused upgrade.
type Exception = ecsws.Exception

var codec = ecsws.NewCodec("TCS", []any{
	PublishMetricsRequest{}, PublishHealthRequest{}, PublishInstanceStatusRequest{},
	HeartbeatMessage{}, AckPublishMetric{}, AckPublishHealth{}, AckPublishInstanceStatus{}, StopTelemetrySessionMessage{},
}, []string{ExceptionAccessDenied, ExceptionBadRequest, ExceptionInvalidParameter, ExceptionResourceValidation, ExceptionServer})

// Encode writes msg as a frame (unsigned: the session signs it).
func Encode(msg any) ([]byte, error) { return codec.Encode(msg) }

// Decode reads a frame into a pointer to its message type or *Exception.
func Decode(data []byte) (any, error) { return codec.Decode(data) }

// DecodeRefusal reads the body of a refused upgrade; nil if it names no
// TCS exception.
func DecodeRefusal(body []byte) *Exception { return codec.DecodeRefusal(body) }
