package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RoleType says which of a task's two roles credentials belong to. The
// values are ACS's roleType (IAMRoleCredentialsMessage) and the
// credentials endpoint's: the task role's credentials reach the task's
// containers, the execution role's serve the agent (ECR pulls, secrets,
// the awslogs driver).
type RoleType string

// Role types, as ACS names them.
const (
	RoleTypeTask      RoleType = "TaskApplication"
	RoleTypeExecution RoleType = "TaskExecution"
)

// CredentialsSource says where a role's credentials came from.
type CredentialsSource string

// Credentials sources.
const (
	// CredentialsFromACS: ECS pushed them over the ACS session (in a
	// payload's task or an IAMRoleCredentialsMessage).
	CredentialsFromACS CredentialsSource = "acs"
	// CredentialsFromSTS: the agent assumed the role with its own
	// credentials (static tasks, which no control plane hands any to).
	CredentialsFromSTS CredentialsSource = "sts"
)

// +kubebuilder:object:root=true

// Credentials is one role of one task (task role or execution role) and
// the id its credentials are served under at /v2/credentials/<id>. It
// holds no secret material: the keys live only in the agent's memory
// (internal/credentials), so after a restart the id is known but its
// credentials are not until ECS resends them or the role is assumed again.
// Its name is CredentialsName(task, role). The credentials reconciler is
// its only writer, spec and status.
type Credentials struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   CredentialsSpec   `json:"spec"`
	Status CredentialsStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// CredentialsList is a list of credentials.
type CredentialsList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Credentials `json:"items"`
}

// CredentialsSpec binds an id to a task's role.
type CredentialsSpec struct {
	// ID is the credentials id: a random UUID (122 random bits), stable
	// for the life of the task, which a container presents as
	// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI. Whoever knows it can read the
	// credentials, so the agent API shows only its first characters.
	ID string `json:"id"`
	// Task is the task's object name, TaskArn its ARN.
	Task    string   `json:"task"`
	TaskArn string   `json:"taskArn"`
	Role    RoleType `json:"roleType"`
	RoleArn string   `json:"roleArn"`
}

// CredentialsStatus is what the agent holds for the role, without the
// secret material.
type CredentialsStatus struct {
	// Source is acs or sts; "" until credentials first arrive.
	Source CredentialsSource `json:"source,omitempty"`
	// Expiration is when the credentials held now expire.
	Expiration *metav1.MicroTime `json:"expiration,omitempty"`
	// LastRefresh is when the agent last got credentials for the role.
	LastRefresh *metav1.MicroTime `json:"lastRefresh,omitempty"`
	// RefreshAt is when the agent assumes the role again (sts only): well
	// before Expiration.
	RefreshAt *metav1.MicroTime `json:"refreshAt,omitempty"`
	// Error is why the last attempt to get credentials failed, "" when it
	// did not.
	Error string `json:"error,omitempty"`
	// Failed says Error is one no retry can fix (the role may not be
	// assumed, or does not exist): the task stops.
	Failed bool `json:"failed,omitempty"`
}

// CredentialsName is the object name of a task's credentials for a role.
func CredentialsName(task string, role RoleType) string {
	if role == RoleTypeExecution {
		return task + "-execution-role"
	}
	return task + "-task-role"
}

// CredentialsIDShown is how much of a credentials id the agent API and the
// CLI show: enough to tell ids apart, far too little to guess the rest.
const CredentialsIDShown = 8

// ShortCredentialsID is the part of a credentials id that may be shown.
func ShortCredentialsID(id string) string {
	if len(id) <= CredentialsIDShown {
		return id
	}
	return id[:CredentialsIDShown] + "…"
}
