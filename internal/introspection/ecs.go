package introspection

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// The JSON shapes below are the ECS agent's (agent/handlers/v1/response.go
// in aws/amazon-ecs-agent): field names, omitempty and nulls included.

// MetadataResponse is the body of /v1/metadata.
type MetadataResponse struct {
	Cluster string `json:"Cluster"`
	// ContainerInstanceArn is null until the instance is registered.
	ContainerInstanceArn *string `json:"ContainerInstanceArn"`
	Version              string  `json:"Version"`
}

// TasksResponse is the body of /v1/tasks without a query.
type TasksResponse struct {
	Tasks []*TaskResponse `json:"Tasks"`
}

// TaskResponse is one task of /v1/tasks.
type TaskResponse struct {
	Arn           string              `json:"Arn"`
	DesiredStatus string              `json:"DesiredStatus,omitempty"`
	KnownStatus   string              `json:"KnownStatus"`
	Family        string              `json:"Family"`
	Version       string              `json:"Version"`
	Containers    []ContainerResponse `json:"Containers"`
}

// ContainerResponse is one container of a TaskResponse
// (ecs-agent/introspection/v1/response.go). Times are UTC, RFC 3339 with
// nanoseconds, as encoding/json writes a time.Time.
type ContainerResponse struct {
	DockerID     string           `json:"DockerId"`
	DockerName   string           `json:"DockerName"`
	Name         string           `json:"Name"`
	Image        string           `json:"Image"`
	ImageID      string           `json:"ImageID"`
	CreatedAt    *time.Time       `json:"CreatedAt,omitempty"`
	StartedAt    *time.Time       `json:"StartedAt,omitempty"`
	Ports        []PortResponse   `json:"Ports,omitempty"`
	Networks     []Network        `json:"Networks,omitempty"`
	Volumes      []VolumeResponse `json:"Volumes,omitempty"`
	RestartCount *int             `json:"RestartCount,omitempty"`
}

// PortResponse is one port binding of a container.
type PortResponse struct {
	ContainerPort uint16 `json:"ContainerPort,omitempty"`
	Protocol      string `json:"Protocol,omitempty"`
	HostPort      uint16 `json:"HostPort,omitempty"`
	HostIP        string `json:"HostIp,omitempty"`
}

// Network is the container's network, as the ECS metadata names it. The
// ECS agent's v1 lists it only for awsvpc tasks, which this agent does not
// run, so it is never filled in.
type Network struct {
	NetworkMode   string   `json:"NetworkMode,omitempty"`
	IPv4Addresses []string `json:"IPv4Addresses,omitempty"`
}

// VolumeResponse is one mount of a container.
type VolumeResponse struct {
	DockerName  string `json:"DockerName,omitempty"`
	Source      string `json:"Source,omitempty"`
	Destination string `json:"Destination,omitempty"`
}

// dockerShortIDLen is the ECS agent's cut between a short docker id
// (matched as a prefix) and a full one (matched exactly).
const dockerShortIDLen = 12

// MetadataVersion formats the agent's version the way the ECS agent's
// /v1/metadata does ("Amazon ECS Agent - v1.2.3 (abcdef)"), which tools
// parse: "ecs-agent 1.2.3" becomes "Amazon ECS Agent - v1.2.3 (ecs-agent 1.2.3)".
func MetadataVersion(version string) string {
	if strings.HasPrefix(version, "Amazon ECS Agent") {
		return version
	}
	v := strings.TrimSpace(strings.TrimPrefix(version, "ecs-agent"))
	if v == "" {
		v = "unknown"
	}
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return "Amazon ECS Agent - " + v + " (" + version + ")"
}

// AvailableCommandsResponse is the body of the introspection root: the
// paths it serves in the ECS agent's shape. The ECS agent also lists
// /license, which this agent does not serve.
type AvailableCommandsResponse struct {
	AvailableCommands []string `json:"AvailableCommands"`
}

func (s *Server) root(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, AvailableCommandsResponse{AvailableCommands: []string{MetadataPath, TasksPath}})
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	var ci apiv1.ContainerInstance
	err := s.opts.Store.Get(r.Context(), apiv1.ContainerInstanceName, &ci)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.opts.Log.Error(err, "serve metadata")
		writeJSON(w, http.StatusInternalServerError, struct{}{})
		return
	}
	resp := MetadataResponse{Cluster: ci.Spec.Cluster, Version: MetadataVersion(s.opts.Version)}
	if ci.Status.Arn != "" {
		arn := ci.Status.Arn
		resp.ContainerInstanceArn = &arn
	}
	writeJSON(w, http.StatusOK, resp)
}

// tasks answers /v1/tasks as the ECS agent does: every task, or the one
// task named by ?dockerid= or ?taskarn= (404 with an empty task when there
// is none; 400 with an empty task when both are given or a short docker id
// matches containers of more than one task).
func (s *Server) tasks(w http.ResponseWriter, r *http.Request) {
	var list apiv1.TaskList
	if err := s.opts.Store.List(r.Context(), &list); err != nil {
		s.opts.Log.Error(err, "serve tasks")
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	query := r.URL.Query()
	dockerID, byDockerID := nonEmpty(query, "dockerid")
	arn, byArn := nonEmpty(query, "taskarn")
	switch {
	case byDockerID && byArn:
		writeJSON(w, http.StatusBadRequest, &TaskResponse{})
	case byDockerID:
		tasks := tasksByDockerID(list.Items, dockerID)
		switch len(tasks) {
		case 0:
			writeJSON(w, http.StatusNotFound, &TaskResponse{})
		case 1:
			writeJSON(w, http.StatusOK, NewTaskResponse(tasks[0]))
		default:
			writeJSON(w, http.StatusBadRequest, &TaskResponse{})
		}
	case byArn:
		for i := range list.Items {
			if list.Items[i].Spec.Arn == arn {
				writeJSON(w, http.StatusOK, NewTaskResponse(&list.Items[i]))
				return
			}
		}
		writeJSON(w, http.StatusNotFound, &TaskResponse{})
	default:
		resp := TasksResponse{Tasks: make([]*TaskResponse, 0, len(list.Items))}
		for i := range list.Items {
			resp.Tasks = append(resp.Tasks, NewTaskResponse(&list.Items[i]))
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// nonEmpty is the ECS agent's ValueFromRequest: a parameter counts only
// when it has a value.
func nonEmpty(q map[string][]string, key string) (string, bool) {
	v := q[key]
	if len(v) == 0 || v[0] == "" {
		return "", false
	}
	return v[0], true
}

// tasksByDockerID finds the tasks with a container of that docker id: an
// exact match for a full id, a prefix match for up to 12 characters. Unlike
// the ECS agent, two containers of the same task count as one match.
func tasksByDockerID(tasks []apiv1.Task, id string) []*apiv1.Task {
	var out []*apiv1.Task
	for i := range tasks {
		for _, c := range tasks[i].Status.Containers {
			if c.DockerID == "" {
				continue
			}
			if c.DockerID == id || (len(id) <= dockerShortIDLen && strings.HasPrefix(c.DockerID, id)) {
				out = append(out, &tasks[i])
				break
			}
		}
	}
	return out
}

// NewTaskResponse is the ECS agent's view of a task.
func NewTaskResponse(t *apiv1.Task) *TaskResponse {
	known := backendStatus(t.Status.KnownStatus)
	desired := string(t.Spec.DesiredStatus)
	// The ECS agent hides a desired status that contradicts a final known
	// one (NewTaskResponse in its handlers/v1).
	if known == string(apiv1.StatusStopped) && desired != string(apiv1.StatusStopped) {
		desired = ""
	}
	resp := &TaskResponse{
		Arn:           t.Spec.Arn,
		DesiredStatus: desired,
		KnownStatus:   known,
		Family:        t.Spec.Family,
		Version:       strconv.FormatInt(t.Spec.Revision, 10),
		Containers:    make([]ContainerResponse, 0, len(t.Spec.Containers)),
	}
	for i := range t.Spec.Containers {
		resp.Containers = append(resp.Containers, newContainerResponse(t, &t.Spec.Containers[i]))
	}
	return resp
}

// backendStatus is the status as ECS's control plane names it: everything
// before RUNNING is PENDING.
func backendStatus(s apiv1.TaskStatusName) string {
	switch s {
	case apiv1.StatusRunning, apiv1.StatusStopped:
		return string(s)
	default:
		return "PENDING"
	}
}

func newContainerResponse(t *apiv1.Task, spec *apiv1.ContainerSpec) ContainerResponse {
	resp := ContainerResponse{Name: spec.Name, Image: spec.Image}
	status := t.Status.ContainerStatusFor(spec.Name)
	if status == nil {
		status = &apiv1.ContainerStatus{}
	}
	resp.DockerID, resp.DockerName, resp.ImageID = status.DockerID, status.DockerName, status.ImageID
	resp.CreatedAt, resp.StartedAt = utc(status.CreatedAt), utc(status.StartedAt)
	// Only a container with a restart policy counts its restarts.
	if spec.RestartPolicy != nil && spec.RestartPolicy.Enabled {
		n := int(status.RestartCount)
		resp.RestartCount = &n
	}
	// Known bindings once the container exists, the mappings asked for
	// before; neither with a host address: as the ECS agent does.
	if len(status.Ports) > 0 {
		for _, p := range status.Ports {
			resp.Ports = append(resp.Ports, PortResponse{ContainerPort: uint16(p.ContainerPort), Protocol: protocol(p.Protocol), HostPort: uint16(p.HostPort)})
		}
	} else {
		for _, p := range spec.PortMappings {
			resp.Ports = append(resp.Ports, PortResponse{ContainerPort: uint16(p.ContainerPort), Protocol: protocol(p.Protocol), HostPort: uint16(p.HostPort)})
		}
	}
	for _, v := range status.Volumes {
		resp.Volumes = append(resp.Volumes, VolumeResponse{DockerName: v.DockerName, Source: v.Source, Destination: v.Destination})
	}
	return resp
}

func utc(t *metav1.MicroTime) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func protocol(p string) string {
	if p == "" {
		return "tcp"
	}
	return p
}
