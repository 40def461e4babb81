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

// ImageSpec names the image and asks for a pull.
type ImageSpec struct {
	// Ref is the image reference as the task definition writes it.
	Ref string `json:"ref"`
	// PullRequestedAt asks for a pull attempt newer than this instant; a task
	// that finds an earlier failure sets it to try again.
	PullRequestedAt *metav1.MicroTime `json:"pullRequestedAt,omitempty"`
	// CredentialsParameter is the repositoryCredentials secret of the
	// container that last asked for a pull (a name, never the secret).
	CredentialsParameter string `json:"credentialsParameter,omitempty"`
	// ExecutionRoleArn is the execution role of the task that last asked for
	// a pull: it fetches ECR tokens and repository credentials.
	ExecutionRoleArn string `json:"executionRoleArn,omitempty"`
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
	// CheckedAt answers pull requests: a task that asked at or before it
	// may act on Phase (Present: use the image; Failed: give up).
	CheckedAt *metav1.MicroTime `json:"checkedAt,omitempty"`
	// AnsweredCredentialsParameter and AnsweredExecutionRoleArn are the
	// credentials (names) of the request the answer at CheckedAt was made
	// for: a failure, and under "always" a success too, answers only the
	// requests that name the same ones.
	AnsweredCredentialsParameter string `json:"answeredCredentialsParameter,omitempty"`
	AnsweredExecutionRoleArn     string `json:"answeredExecutionRoleArn,omitempty"`
	// Progress is the pull in flight, nil when none is.
	Progress *PullProgress `json:"progress,omitempty"`
	// FailedAttempts counts the pull attempts that failed in a row for the
	// request being answered; it drives the retry backoff.
	FailedAttempts int32 `json:"failedAttempts,omitempty"`
}

// PullProgress is how far a pull got: bytes downloaded of the layers whose
// size the daemon knows so far (the total grows as layers start).
type PullProgress struct {
	StartedAt metav1.MicroTime `json:"startedAt"`
	Done      int64            `json:"done"`
	Total     int64            `json:"total"`
}
