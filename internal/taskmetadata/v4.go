package taskmetadata

import (
	"strconv"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// The JSON shapes below are the ECS agent's task metadata v4 responses
// (ecs-agent/tmds/handlers/v4/state and v2 under it, in
// aws/amazon-ecs-agent): field names, omissions and types. "O" in the
// comments of ../shared/protocols/TMDS.md is omitempty here.

// TaskResponse is the body of /v4/<id>/task and /taskWithTags.
type TaskResponse struct {
	TaskFields
	Containers            []ContainerResponse `json:"Containers,omitempty"`
	LaunchType            string              `json:"LaunchType,omitempty"`
	Errors                []ErrorResponse     `json:"Errors,omitempty"`
	VPCID                 string              `json:"VPCID,omitempty"`
	ServiceName           string              `json:"ServiceName,omitempty"`
	FaultInjectionEnabled bool                `json:"FaultInjectionEnabled"`
}

// TaskFields are the members v3's and v4's task answers share.
type TaskFields struct {
	Cluster               string            `json:"Cluster"`
	TaskARN               string            `json:"TaskARN"`
	Family                string            `json:"Family"`
	Revision              string            `json:"Revision"`
	DesiredStatus         string            `json:"DesiredStatus"`
	KnownStatus           string            `json:"KnownStatus"`
	Limits                *TaskLimits       `json:"Limits,omitempty"`
	PullStartedAt         *time.Time        `json:"PullStartedAt,omitempty"`
	PullStoppedAt         *time.Time        `json:"PullStoppedAt,omitempty"`
	ExecutionStoppedAt    *time.Time        `json:"ExecutionStoppedAt,omitempty"`
	AvailabilityZone      string            `json:"AvailabilityZone,omitempty"`
	TaskTags              map[string]string `json:"TaskTags,omitempty"`
	ContainerInstanceTags map[string]string `json:"ContainerInstanceTags,omitempty"`
}

// TaskLimits are the task-level limits: CPU in vCPUs, Memory in MiB.
type TaskLimits struct {
	CPU    *float64 `json:"CPU,omitempty"`
	Memory *int64   `json:"Memory,omitempty"`
}

// ContainerLimits are a container's: CPU in CPU units, Memory in MiB.
type ContainerLimits struct {
	CPU    float64 `json:"CPU"`
	Memory int64   `json:"Memory"`
}

// ErrorResponse is a failure to get part of the answer (tags).
type ErrorResponse struct {
	ErrorField   string `json:"ErrorField,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
	StatusCode   int    `json:"StatusCode,omitempty"`
	RequestID    string `json:"RequestId,omitempty"`
	ResourceARN  string `json:"ResourceARN,omitempty"`
}

// ContainerResponse is the body of /v4/<id> and each of a task's
// containers.
type ContainerResponse struct {
	ContainerFields
	Ports        []PortResponse    `json:"Ports,omitempty"`
	Networks     []Network         `json:"Networks,omitempty"`
	LogDriver    string            `json:"LogDriver,omitempty"`
	LogOptions   map[string]string `json:"LogOptions,omitempty"`
	ContainerARN string            `json:"ContainerARN,omitempty"`
	RestartCount *int32            `json:"RestartCount,omitempty"`
}

// ContainerFields are the members v3's and v4's container answers share.
type ContainerFields struct {
	ID            string            `json:"DockerId"`
	Name          string            `json:"Name"`
	DockerName    string            `json:"DockerName"`
	Image         string            `json:"Image"`
	ImageID       string            `json:"ImageID"`
	Labels        map[string]string `json:"Labels,omitempty"`
	DesiredStatus string            `json:"DesiredStatus"`
	KnownStatus   string            `json:"KnownStatus"`
	ExitCode      *int32            `json:"ExitCode,omitempty"`
	Limits        ContainerLimits   `json:"Limits"`
	CreatedAt     *time.Time        `json:"CreatedAt,omitempty"`
	StartedAt     *time.Time        `json:"StartedAt,omitempty"`
	FinishedAt    *time.Time        `json:"FinishedAt,omitempty"`
	Type          string            `json:"Type"`
	Health        *HealthResponse   `json:"Health,omitempty"`
	Volumes       []VolumeResponse  `json:"Volumes,omitempty"`
}

// PortResponse is one port binding.
type PortResponse struct {
	ContainerPort int32  `json:"ContainerPort,omitempty"`
	Protocol      string `json:"Protocol,omitempty"`
	HostPort      int32  `json:"HostPort,omitempty"`
	HostIP        string `json:"HostIp,omitempty"`
}

// Network is one network of a container (bridge and host modes carry the
// mode and addresses only).
type Network struct {
	NetworkMode   string   `json:"NetworkMode,omitempty"`
	IPv4Addresses []string `json:"IPv4Addresses,omitempty"`
	IPv6Addresses []string `json:"IPv6Addresses,omitempty"`
}

// HealthResponse is a container's health, only for one with a health
// check.
type HealthResponse struct {
	Status   string     `json:"status,omitempty"`
	Since    *time.Time `json:"statusSince,omitempty"`
	ExitCode int        `json:"exitCode,omitempty"`
	Output   string     `json:"output,omitempty"`
}

// VolumeResponse is one mount of a container.
type VolumeResponse struct {
	DockerName  string `json:"DockerName,omitempty"`
	Source      string `json:"Source,omitempty"`
	Destination string `json:"Destination,omitempty"`
}

// Values of the ECS agent's that this agent has one of.
const (
	launchTypeEC2     = "EC2"
	containerTypeNorm = "NORMAL"
	// minimumCPUUnits is what a container's CPU limit reads at least: the
	// CPU shares the ECS agent gives a container with cpu 0 or 1.
	minimumCPUUnits = 2
)

// docker is what the endpoint reads of the Docker cache.
type docker interface {
	Container(id string) (dockerstate.Container, bool)
}

// newTask builds a task's v4 answer; with every container created or
// pulled.
func newTask(t *apiv1.Task, d docker) TaskResponse {
	r := TaskResponse{TaskFields: TaskFields{
		Cluster:       t.Spec.Cluster,
		TaskARN:       t.Spec.Arn,
		Family:        t.Spec.Family,
		Revision:      strconv.FormatInt(t.Spec.Revision, 10),
		DesiredStatus: taskStatus(t.Spec.DesiredStatus),
		KnownStatus:   taskStatus(t.Status.KnownStatus),
		Limits:        taskLimits(&t.Spec),
		PullStartedAt: utc(t.Status.PullStartedAt),
		PullStoppedAt: utc(t.Status.PullStoppedAt),
	}, LaunchType: launchTypeEC2}
	if t.Status.KnownStatus == apiv1.StatusStopped {
		r.ExecutionStoppedAt = utc(t.Status.StoppedAt)
	}
	for i := range t.Spec.Containers {
		r.Containers = append(r.Containers, newContainer(t, &t.Spec.Containers[i], d))
	}
	return r
}

// taskStatus maps a task status to those the endpoint knows: a task is
// NONE until its first container is created (PULLED is a container's).
func taskStatus(s apiv1.TaskStatusName) string {
	if s == "" || s == apiv1.StatusPulled {
		return string(apiv1.StatusNone)
	}
	return string(s)
}

func taskLimits(spec *apiv1.TaskSpec) *TaskLimits {
	var l TaskLimits
	if units, err := strconv.ParseInt(spec.CPU, 10, 64); err == nil {
		vcpu := float64(units) / 1024
		l.CPU = &vcpu
	}
	if mib, err := strconv.ParseInt(spec.Memory, 10, 64); err == nil {
		l.Memory = &mib
	}
	if l.CPU == nil && l.Memory == nil {
		return nil
	}
	return &l
}

// newContainer builds one container's v4 answer.
func newContainer(t *apiv1.Task, c *apiv1.ContainerSpec, d docker) ContainerResponse {
	cs := t.Status.ContainerStatusFor(c.Name)
	if cs == nil {
		cs = &apiv1.ContainerStatus{Name: c.Name}
	}
	r := ContainerResponse{ContainerFields: ContainerFields{
		ID:            cs.DockerID,
		Name:          c.Name,
		DockerName:    cs.DockerName,
		Image:         c.Image,
		ImageID:       cs.ImageID,
		DesiredStatus: containerDesired(t),
		KnownStatus:   string(orNone(cs.KnownStatus)),
		ExitCode:      cs.ExitCode,
		Limits:        ContainerLimits{CPU: float64(max(c.CPU, minimumCPUUnits))},
		CreatedAt:     utc(cs.CreatedAt),
		StartedAt:     utc(cs.StartedAt),
		FinishedAt:    utc(cs.FinishedAt),
		Type:          containerTypeNorm,
	}}
	if c.Memory != nil {
		r.Limits.Memory = *c.Memory
	}
	for _, p := range cs.Ports {
		r.Ports = append(r.Ports, PortResponse{ContainerPort: p.ContainerPort, Protocol: p.Protocol, HostPort: p.HostPort, HostIP: p.BindIP})
	}
	if c.HealthCheck != nil {
		r.Health = &HealthResponse{}
		if h := cs.Health; h != nil {
			if h.Status != apiv1.HealthUnknown {
				r.Health.Status = h.Status
			}
			r.Health.Since, r.Health.Output = utc(h.Since), h.Output
		}
	}
	if c.RestartPolicy != nil && c.RestartPolicy.Enabled {
		n := cs.RestartCount
		r.RestartCount = &n
	}
	if lc := c.LogConfiguration; lc != nil {
		r.LogDriver, r.LogOptions = lc.LogDriver, lc.Options
	}
	if dc, ok := d.Container(cs.DockerID); ok && cs.DockerID != "" {
		r.Labels = dc.Labels
		r.Networks = networks(&dc)
		for _, m := range dc.Mounts {
			r.Volumes = append(r.Volumes, VolumeResponse{DockerName: m.Name, Source: m.Source, Destination: m.Target})
		}
	}
	return r
}

// containerDesired is a container's desired status: the task's, or
// STOPPED once the agent decided to stop the task.
func containerDesired(t *apiv1.Task) string {
	if t.Spec.DesiredStatus == apiv1.StatusStopped || t.Status.StoppingReason != "" {
		return string(apiv1.StatusStopped)
	}
	return string(apiv1.StatusRunning)
}

// networks is one entry per Docker network, as the ECS agent builds them
// for bridge and host modes from inspect: the network's name as the mode,
// the container's address on it ("" for host), a global IPv6 address only
// when there is one.
func networks(dc *dockerstate.Container) []Network {
	var out []Network
	for _, n := range dc.Networks {
		nw := Network{NetworkMode: n.Name, IPv4Addresses: []string{n.IPv4}}
		if n.IPv6 != "" {
			nw.IPv6Addresses = []string{n.IPv6}
		}
		out = append(out, nw)
	}
	return out
}

func orNone(s apiv1.TaskStatusName) apiv1.TaskStatusName {
	if s == "" {
		return apiv1.StatusNone
	}
	return s
}
