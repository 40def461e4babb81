package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +kubebuilder:object:root=true

// TaskReport is what the control plane acknowledged of one ECS task: the
// last task and container statuses it accepted. Its name is the task's.
// The state reporter is its only writer (it creates, updates and deletes
// it), so the task's own status keeps one writer too: the tasks reconciler
// copies the acknowledgements into Task.Status.ReportedStatus for display
// and waits for STOPPED here before it cleans the task up.
type TaskReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Status TaskReportStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// TaskReportList is a list of task reports.
type TaskReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TaskReport `json:"items"`
}

// TaskReportStatus holds the acknowledged statuses.
type TaskReportStatus struct {
	// TaskStatus is the last task status the control plane acknowledged.
	TaskStatus TaskStatusName `json:"taskStatus,omitempty"`
	// Containers maps a container's name to the last status acknowledged
	// for it.
	Containers map[string]TaskStatusName `json:"containers,omitempty"`
	// RefusedAt is when the control plane last refused a report of the
	// task for good (a ClientException), and RefusedReason its answer.
	// Such a report is not sent again; the task's TaskReport then outlives
	// the task for a day, as a tombstone: the ECS source never creates a
	// task again whose report it finds, since ECS, which never heard of the
	// stop, may list the task as running still.
	RefusedAt     *metav1.MicroTime `json:"refusedAt,omitempty"`
	RefusedReason string            `json:"refusedReason,omitempty"`
}
