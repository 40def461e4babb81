package taskmetadata

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TaskResponseV3 is the body of /v3/<id>/task: v4's without the members v4
// added (launch type, fault injection, errors, …) and with only created
// containers.
type TaskResponseV3 struct {
	TaskFields
	Containers []ContainerResponseV3 `json:"Containers,omitempty"`
}

// ContainerResponseV3 is the body of /v3/<id>.
type ContainerResponseV3 struct {
	ContainerFields
	Ports    []PortResponseV3 `json:"Ports,omitempty"`
	Networks []NetworkV3      `json:"Networks,omitempty"`
}

// PortResponseV3 is a port binding without the host address.
type PortResponseV3 struct {
	ContainerPort int32  `json:"ContainerPort,omitempty"`
	Protocol      string `json:"Protocol,omitempty"`
	HostPort      int32  `json:"HostPort,omitempty"`
}

// NetworkV3 is a network's mode and IPv4 addresses.
type NetworkV3 struct {
	NetworkMode   string   `json:"NetworkMode,omitempty"`
	IPv4Addresses []string `json:"IPv4Addresses,omitempty"`
}

func taskV3(t TaskResponse) TaskResponseV3 {
	r := TaskResponseV3{TaskFields: t.TaskFields}
	for _, c := range t.Containers {
		if c.ID != "" {
			r.Containers = append(r.Containers, containerV3(c))
		}
	}
	return r
}

func containerV3(c ContainerResponse) ContainerResponseV3 {
	r := ContainerResponseV3{ContainerFields: c.ContainerFields}
	for _, p := range c.Ports {
		r.Ports = append(r.Ports, PortResponseV3{ContainerPort: p.ContainerPort, Protocol: p.Protocol, HostPort: p.HostPort})
	}
	for _, n := range c.Networks {
		r.Networks = append(r.Networks, NetworkV3{NetworkMode: n.NetworkMode, IPv4Addresses: n.IPv4Addresses})
	}
	return r
}

// utc is a stored time as the endpoint writes it: UTC, nanoseconds.
func utc(t *metav1.MicroTime) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
