package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +kubebuilder:object:root=true

// TaskMetrics is what a task's containers use now, as the agent last
// sampled it from Docker: what `ecs-agent top` shows, in the manner of the
// Kubernetes metrics API's PodMetrics. It is never stored: the agent API
// makes it from the stats sampler at each request. Its name is the task's.
type TaskMetrics struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Arn         string         `json:"arn"`
	Family      string         `json:"family"`
	Revision    int64          `json:"revision"`
	KnownStatus TaskStatusName `json:"knownStatus"`
	// MemoryLimitBytes is the task-level memory limit, when the task
	// definition sets one.
	MemoryLimitBytes *int64             `json:"memoryLimitBytes,omitempty"`
	Containers       []ContainerMetrics `json:"containers"`
}

// ContainerMetrics is one container's latest sample. A container without
// SampledAt has no sample yet: it is not running, or it started less than
// a sampling interval (a second) ago.
type ContainerMetrics struct {
	Name        string         `json:"name"`
	DockerID    string         `json:"dockerId,omitempty"`
	KnownStatus TaskStatusName `json:"knownStatus"`
	// SampledAt is when the Docker daemon took the sample.
	SampledAt *metav1.MicroTime `json:"sampledAt,omitempty"`
	// CPUPercent is the CPU use over the sample's interval in percent of
	// one CPU (200 is two CPUs busy), as `docker stats` shows it; absent
	// from a container's first sample, which has no interval.
	CPUPercent *float64 `json:"cpuPercent,omitempty"`
	// MemoryBytes is the memory in use less the inactive file cache, as
	// `docker stats` shows it.
	MemoryBytes *int64 `json:"memoryBytes,omitempty"`
	// MemoryLimitBytes is the container's hard memory limit, when its
	// definition sets one.
	MemoryLimitBytes *int64 `json:"memoryLimitBytes,omitempty"`
}

// +kubebuilder:object:root=true

// TaskMetricsList is a list of task metrics.
type TaskMetricsList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TaskMetrics `json:"items"`
}
