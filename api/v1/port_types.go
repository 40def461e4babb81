package v1

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +kubebuilder:object:root=true

// PortAllocation holds one host port and protocol for one container port of
// one task. Its name is PortAllocationName(protocol, port), so creating it is
// the allocation: the store refuses a second object of the same name. It has
// no status; the port allocator creates it and the ports reconciler deletes
// it.
type PortAllocation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec PortAllocationSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// PortAllocationList is a list of port allocations.
type PortAllocationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PortAllocation `json:"items"`
}

// PortAllocationSpec says who holds the port.
type PortAllocationSpec struct {
	HostPort      int32  `json:"hostPort"`
	Protocol      string `json:"protocol"`
	Task          string `json:"task"`
	Container     string `json:"container"`
	ContainerPort int32  `json:"containerPort"`
	// Dynamic is true when the agent picked the port (hostPort 0).
	Dynamic bool `json:"dynamic,omitempty"`
}

// PortAllocationName is the object name of the allocation of a host port.
func PortAllocationName(protocol string, hostPort int32) string {
	return fmt.Sprintf("%s-%d", protocol, hostPort)
}
