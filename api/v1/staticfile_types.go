package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +kubebuilder:object:root=true

// StaticTaskFile is the static source's record of a task file it has applied:
// which content (by digest) became which task. It is what keeps a stopped or
// cleaned-up static task from starting again until its file changes, and what
// gives a static task the same identity after an agent restart. Its name is
// derived from the file path. It has no status; the static source is its only
// writer.
type StaticTaskFile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec StaticTaskFileSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// StaticTaskFileList is a list of static task file records.
type StaticTaskFileList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []StaticTaskFile `json:"items"`
}

// StaticTaskFileSpec records one applied file.
type StaticTaskFileSpec struct {
	Path string `json:"path"`
	// Digest is the sha256 of the file content that was applied.
	Digest string `json:"digest"`
	// Task is the name of the Task object made from it.
	Task string `json:"task"`
	// Revision counts the contents the path has had since it appeared: 1
	// for the first, one more for each change. It is the task's revision.
	Revision int64 `json:"revision"`
}
