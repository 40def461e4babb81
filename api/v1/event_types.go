package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Event types.
const (
	EventNormal  = "Normal"
	EventWarning = "Warning"
)

// +kubebuilder:object:root=true

// Event records something that happened to an object and why, for describe.
// The store keeps a bounded number per object.
type Event struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// InvolvedKind and InvolvedName name the object, e.g. Task and its name.
	InvolvedKind string `json:"involvedKind"`
	InvolvedName string `json:"involvedName"`
	// Type is Normal or Warning.
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Count is how many times in a row the same event was recorded.
	Count          int32            `json:"count"`
	FirstTimestamp metav1.MicroTime `json:"firstTimestamp"`
	LastTimestamp  metav1.MicroTime `json:"lastTimestamp"`
}

// +kubebuilder:object:root=true

// EventList is a list of events.
type EventList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Event `json:"items"`
}
