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

// AnnotationImageRemoving marks an Image whose removal image cleanup has
// decided on (the value is when). A starting task that finds the mark waits
// for the removal and pulls the image again rather than create a container
// from an image about to vanish; the images reconciler's whole-object
// updates keep it, as they keep any metadata.
const AnnotationImageRemoving = "ecs-agent/image-removing"

// +kubebuilder:object:root=true

// Image is one image reference the host needs or has. Its name is derived
// from the reference (see ImageObjectName).
type Image struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ImageSpec   `json:"spec"`
	Status ImageStatus `json:"status,omitempty"`
}

// BeingRemoved reports whether image cleanup is removing the image
// (AnnotationImageRemoving): a task must not create a container from it, but
// wait and pull it again.
func (img *Image) BeingRemoved() bool {
	_, ok := img.Annotations[AnnotationImageRemoving]
	return ok
}

// +kubebuilder:object:root=true

// ImageList is a list of images.
type ImageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Image `json:"items"`
}

// ImageSpec names the image and holds the tasks' pull requests. Its
// writers are the tasks reconciler, each task writing only its own entry
// of Requests (image_pull.go has the protocol), and image cleanup, which
// marks an unused image with AnnotationImageRemoving before it deletes it.
type ImageSpec struct {
	// Ref is the image reference as the task definition writes it.
	Ref string `json:"ref"`
	// Requests are the tasks that use the image, one entry each, sorted by
	// task name.
	Requests []PullRequest `json:"requests,omitempty"`
}

// ImageStatus is what the images reconciler observed and answered; it is
// the status's only writer.
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
	// Users are the names of the tasks that use the image: those with a
	// request in the spec.
	Users []string `json:"users,omitempty"`
	// Answers are the answers to the tasks' requests, one per task.
	Answers []PullAnswer `json:"answers,omitempty"`
	// Progress is the pull in flight, nil when none is.
	Progress *PullProgress `json:"progress,omitempty"`
	// FailedAttempts counts the pull attempts with RetryCredentials that
	// failed in a row; it drives the retry backoff.
	FailedAttempts   int32            `json:"failedAttempts,omitempty"`
	RetryCredentials *PullCredentials `json:"retryCredentials,omitempty"`
}

// PullProgress is how far a pull got: bytes downloaded of the layers whose
// size the daemon knows so far (the total grows as layers start).
type PullProgress struct {
	StartedAt metav1.MicroTime `json:"startedAt"`
	Done      int64            `json:"done"`
	Total     int64            `json:"total"`
}
