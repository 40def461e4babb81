package fakeecs

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Actions recorded as reports.
const (
	ActionSubmitTaskStateChange      = "SubmitTaskStateChange"
	ActionSubmitContainerStateChange = "SubmitContainerStateChange"
)

// Report is one accepted SubmitTaskStateChange or SubmitContainerStateChange, as the agent sent it.
type Report struct {
	// Seq numbers reports from 1 in the order the fake received them.
	Seq    int    `json:"seq"`
	Action string `json:"action"`
	// TaskARN is the task reported on; ContainerName is set for a container change.
	TaskARN         string                 `json:"taskArn"`
	ContainerName   string                 `json:"containerName,omitempty"`
	RuntimeID       string                 `json:"runtimeId,omitempty"`
	Status          string                 `json:"status"`
	ExitCode        *int32                 `json:"exitCode,omitempty"`
	Reason          string                 `json:"reason,omitempty"`
	NetworkBindings []types.NetworkBinding `json:"networkBindings,omitempty"`
	// Containers are the container changes carried inside a task change.
	Containers         []ContainerReport `json:"containers,omitempty"`
	PullStartedAt      *time.Time        `json:"pullStartedAt,omitempty"`
	PullStoppedAt      *time.Time        `json:"pullStoppedAt,omitempty"`
	ExecutionStoppedAt *time.Time        `json:"executionStoppedAt,omitempty"`
	Received           time.Time         `json:"received"`
}

// ContainerReport is one container's change inside a SubmitTaskStateChange.
type ContainerReport struct {
	ContainerName   string                 `json:"containerName"`
	RuntimeID       string                 `json:"runtimeId,omitempty"`
	ImageDigest     string                 `json:"imageDigest,omitempty"`
	Status          string                 `json:"status"`
	ExitCode        *int32                 `json:"exitCode,omitempty"`
	Reason          string                 `json:"reason,omitempty"`
	NetworkBindings []types.NetworkBinding `json:"networkBindings,omitempty"`
}

// Reports returns every report received so far, oldest first.
func (f *Fake) Reports() []Report {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Report(nil), f.reports...)
}

// ReportsFor returns the reports about one task, oldest first.
func (f *Fake) ReportsFor(taskARN string) []Report {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Report
	for _, r := range f.reports {
		if r.TaskARN == taskARN {
			out = append(out, r)
		}
	}
	return out
}

// statusRank orders ECS task and container statuses: a status only moves forward, so a late or
// repeated report never takes a task back (ECS ignores such regressions too).
var statusRank = map[string]int{
	"PROVISIONING": 1, "PENDING": 2, "ACTIVATING": 3, "RUNNING": 4,
	"DEACTIVATING": 5, "STOPPING": 6, "DEPROVISIONING": 7, "STOPPED": 8,
}

func forward(from *string, to string) bool {
	return statusRank[to] > statusRank[deref(from)]
}

func validStatus(s string) bool { _, ok := statusRank[s]; return ok }

func actSubmitTaskStateChange(f *Fake, in *ecs.SubmitTaskStateChangeInput) (any, error) {
	if deref(in.Status) != "" && !validStatus(deref(in.Status)) {
		return nil, errInvalid("invalid task status %q", deref(in.Status))
	}
	t, err := f.clusterTask(in.Cluster, in.Task)
	if err != nil {
		return nil, err
	}
	now := f.now().UTC()
	rep := Report{Action: ActionSubmitTaskStateChange, TaskARN: deref(t.TaskArn), Status: deref(in.Status),
		Reason: deref(in.Reason), PullStartedAt: in.PullStartedAt, PullStoppedAt: in.PullStoppedAt,
		ExecutionStoppedAt: in.ExecutionStoppedAt, Received: now}
	for _, cc := range in.Containers {
		rep.Containers = append(rep.Containers, ContainerReport{ContainerName: deref(cc.ContainerName),
			RuntimeID: deref(cc.RuntimeId), ImageDigest: deref(cc.ImageDigest), Status: deref(cc.Status),
			ExitCode: cc.ExitCode, Reason: deref(cc.Reason), NetworkBindings: cc.NetworkBindings})
		f.applyContainerChange(t, deref(cc.ContainerName), deref(cc.RuntimeId), deref(cc.Status), cc.ExitCode,
			deref(cc.Reason), cc.NetworkBindings)
		if cc.ImageDigest != nil {
			if ct := containerNamed(t, deref(cc.ContainerName)); ct != nil {
				ct.ImageDigest = cc.ImageDigest
			}
		}
	}
	if in.PullStartedAt != nil {
		t.PullStartedAt = in.PullStartedAt
	}
	if in.PullStoppedAt != nil {
		t.PullStoppedAt = in.PullStoppedAt
	}
	if in.ExecutionStoppedAt != nil {
		t.ExecutionStoppedAt = in.ExecutionStoppedAt
	}
	if st := deref(in.Status); st != "" && forward(t.LastStatus, st) {
		t.LastStatus = ptr(st)
		switch st {
		case "RUNNING":
			t.StartedAt = ptr(now)
		case "STOPPED":
			t.StoppedAt = ptr(now)
			if deref(t.DesiredStatus) != "STOPPED" {
				// The agent stopped the task on its own (an essential container exited).
				f.stopTask(t, deref(in.Reason), types.TaskStopCodeEssentialContainerExited)
			}
		}
	}
	t.Version++
	f.record(rep)
	return &ecs.SubmitTaskStateChangeOutput{Acknowledgment: ptr("ACK")}, nil
}

func actSubmitContainerStateChange(f *Fake, in *ecs.SubmitContainerStateChangeInput) (any, error) {
	if !validStatus(deref(in.Status)) {
		return nil, errInvalid("invalid container status %q", deref(in.Status))
	}
	t, err := f.clusterTask(in.Cluster, in.Task)
	if err != nil {
		return nil, err
	}
	if containerNamed(t, deref(in.ContainerName)) == nil {
		return nil, errInvalid("The referenced container %q was not found in task %s.", deref(in.ContainerName), deref(t.TaskArn))
	}
	f.applyContainerChange(t, deref(in.ContainerName), deref(in.RuntimeId), deref(in.Status), in.ExitCode,
		deref(in.Reason), in.NetworkBindings)
	t.Version++
	f.record(Report{Action: ActionSubmitContainerStateChange, TaskARN: deref(t.TaskArn),
		ContainerName: deref(in.ContainerName), RuntimeID: deref(in.RuntimeId), Status: deref(in.Status),
		ExitCode: in.ExitCode, Reason: deref(in.Reason), NetworkBindings: in.NetworkBindings,
		Received: f.now().UTC()})
	return &ecs.SubmitContainerStateChangeOutput{Acknowledgment: ptr("ACK")}, nil
}

func containerNamed(t *types.Task, name string) *types.Container {
	for i := range t.Containers {
		if deref(t.Containers[i].Name) == name {
			return &t.Containers[i]
		}
	}
	return nil
}

// applyContainerChange updates one container of a task; callers hold f.mu.
func (f *Fake) applyContainerChange(t *types.Task, name, runtimeID, status string, exitCode *int32, reason string, nb []types.NetworkBinding) {
	ct := containerNamed(t, name)
	if ct == nil {
		return
	}
	if runtimeID != "" {
		ct.RuntimeId = ptr(runtimeID)
	}
	if status != "" && forward(ct.LastStatus, status) {
		ct.LastStatus = ptr(status)
	}
	if exitCode != nil {
		ct.ExitCode = ptr(*exitCode)
	}
	if reason != "" {
		ct.Reason = ptr(reason)
	}
	if nb != nil {
		ct.NetworkBindings = nb
	}
}

// record appends a report; callers hold f.mu.
func (f *Fake) record(r Report) {
	r.Seq = len(f.reports) + 1
	f.reports = append(f.reports, r)
}
