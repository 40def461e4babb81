package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Image phases.
const (
	ImagePending = "Pending"
	ImagePulling = "Pulling"
	ImagePresent = "Present"
	ImageFailed  = "Failed"
)

// +kubebuilder:object:root=true

// Image is one image reference the host needs or has. Its name is derived
// from the reference (see ImageObjectName).
type Image struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ImageSpec   `json:"spec"`
	Status ImageStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ImageList is a list of images.
type ImageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Image `json:"items"`
}

// ImageSpec names the image and asks for a pull.
type ImageSpec struct {
	// Ref is the image reference as the task definition writes it.
	Ref string `json:"ref"`
	// PullRequestedAt asks for a pull attempt newer than this instant; a task
	// that finds an earlier failure sets it to try again.
	PullRequestedAt *metav1.MicroTime `json:"pullRequestedAt,omitempty"`
}

// ImageStatus is what the images reconciler observed.
type ImageStatus struct {
	// Phase is Pending, Pulling, Present or Failed.
	Phase   string `json:"phase,omitempty"`
	ImageID string `json:"imageId,omitempty"`
	Size    int64  `json:"size,omitempty"`
	// PulledAt is when this agent last pulled the image successfully.
	PulledAt        *metav1.MicroTime `json:"pulledAt,omitempty"`
	LastPullAttempt *metav1.MicroTime `json:"lastPullAttempt,omitempty"`
	LastPullError   string            `json:"lastPullError,omitempty"`
	LastUsedAt      *metav1.MicroTime `json:"lastUsedAt,omitempty"`
	// Users are the names of the tasks that use the image.
	Users []string `json:"users,omitempty"`
}
