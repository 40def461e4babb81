package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +kubebuilder:object:root=true

// ContainerInstance is this host's registration with a cluster. There is one,
// named "self". Its one writer, spec and status, is the agent's task source:
// the ECS source (registration, then the instance status each poll reads)
// or, offline, the agent at start.
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
}

// ContainerInstanceName is the name of the one ContainerInstance object.
const ContainerInstanceName = "self"
