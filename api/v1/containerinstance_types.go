package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RegistrationTokenTag is the container instance tag that carries
// ContainerInstanceStatus.RegistrationToken.
const RegistrationTokenTag = "ecs-agent.registration-token"

// +kubebuilder:object:root=true

// ContainerInstance is this host's registration with a cluster. There is one,
// named "self". Its one writer, spec and status, is the agent's task source:
// the ECS source (registration, the instance status each poll reads, and
// the ACS session's state) or, offline, the agent at start.
type ContainerInstance struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ContainerInstanceSpec   `json:"spec"`
	Status ContainerInstanceStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ContainerInstanceList is a list of container instances.
type ContainerInstanceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ContainerInstance `json:"items"`
}

// ContainerInstanceSpec is the registration the agent asks for.
type ContainerInstanceSpec struct {
	Cluster    string            `json:"cluster"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// CPU is in CPU units, Memory in MiB (less ECS_RESERVED_MEMORY).
	CPU      int64   `json:"cpu"`
	Memory   int64   `json:"memory"`
	Ports    []int32 `json:"ports,omitempty"`
	PortsUDP []int32 `json:"portsUdp,omitempty"`
}

// ContainerInstanceStatus is what the control plane said of the registration.
type ContainerInstanceStatus struct {
	Arn string `json:"arn,omitempty"`
	// Status is ACTIVE, DRAINING, … as ECS reports it; offline agents say OFFLINE.
	Status       string            `json:"status,omitempty"`
	RegisteredAt *metav1.MicroTime `json:"registeredAt,omitempty"`
	// RegistrationToken marks a registration as a new container instance
	// that may have happened without its ARN reaching the store (a crash
	// between ECS's answer and the write): it is persisted first and sent as
	// the tag RegistrationTokenTag, so the next start finds that instance by
	// it instead of registering a second one. Cleared once the ARN is
	// stored.
	RegistrationToken string `json:"registrationToken,omitempty"`
	// ACS is the ECS source's ACS session as last recorded; nil before the
	// first attempt and offline.
	ACS *ACSSession `json:"acs,omitempty"`
}

// ACSSession is the ACS session of the ECS source: what `describe
// containerinstance` shows, and the sequence high-water mark that must
// survive a restart.
type ACSSession struct {
	Connected bool `json:"connected"`
	// Endpoint is the ACS endpoint DiscoverPollEndpoint named.
	Endpoint       string            `json:"endpoint,omitempty"`
	ConnectedSince *metav1.MicroTime `json:"connectedSince,omitempty"`
	// LastMessageAt and LastMessageType are of the last frame received
	// (recorded at most every few seconds).
	LastMessageAt   *metav1.MicroTime `json:"lastMessageAt,omitempty"`
	LastMessageType string            `json:"lastMessageType,omitempty"`
	// Reconnects counts sessions this process opened after its first.
	Reconnects int64 `json:"reconnects,omitempty"`
	// LastError says why the last connect failed or the last session ended.
	LastError string `json:"lastError,omitempty"`
	// SeqNum is the high-water mark of payload seqNum and manifest
	// timeline: a manifest at or below it is stale. -1 (or absent) is none.
	SeqNum *int64 `json:"seqNum,omitempty"`
}

// ContainerInstanceName is the name of the one ContainerInstance object.
const ContainerInstanceName = "self"
