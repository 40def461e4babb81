package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

// pollEvery is how often conditions are polled: often enough for
// second-scale deadlines, rarely enough to leave the 2 cores to the agent.
const pollEvery = 150 * time.Millisecond

// TaskPath is the path of the static task file name.
func (a *Agent) TaskPath(name string) string { return filepath.Join(a.TasksDir, name) }

// WriteTask writes a static task file atomically (a hidden temp file,
// then rename), so that the agent never reads half a file.
func (a *Agent) WriteTask(name, content string) {
	a.tb.Helper()
	tmp := filepath.Join(a.TasksDir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		a.tb.Fatalf("write task file %s: %v", name, err)
	}
	if err := os.Rename(tmp, a.TaskPath(name)); err != nil {
		a.tb.Fatalf("write task file %s: %v", name, err)
	}
}

// RemoveTask deletes a static task file.
func (a *Agent) RemoveTask(name string) {
	a.tb.Helper()
	if err := os.Remove(a.TaskPath(name)); err != nil {
		a.tb.Fatalf("remove task file %s: %v", name, err)
	}
}

// TaskList is the output of `ecs-agent get tasks -o json`.
type TaskList struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Items      []apiv1.Task `json:"items"`
}

// TaskList runs `ecs-agent get tasks -o json`, which reads through the
// running agent or, when it is stopped, from its store.
func (a *Agent) TaskList() (TaskList, error) {
	out, err := a.CLI("get", "tasks", "-o", "json")
	if err != nil {
		return TaskList{}, err
	}
	var list TaskList
	if err := json.Unmarshal(out, &list); err != nil {
		return TaskList{}, fmt.Errorf("decode `ecs-agent get tasks -o json` output: %w: %.300s", err, out)
	}
	return list, nil
}

// Tasks returns the agent's tasks, as TaskList does.
func (a *Agent) Tasks() ([]apiv1.Task, error) {
	list, err := a.TaskList()
	return list.Items, err
}

// TasksOf returns the tasks made from the static file name, oldest
// revision first.
func TasksOf(tasks []apiv1.Task, name string) []apiv1.Task {
	var out []apiv1.Task
	for _, t := range tasks {
		if filepath.Base(t.Spec.SourceRef) == name {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Revision < out[j].Spec.Revision })
	return out
}

// WaitTask polls `get tasks` until the newest task of the static file name
// satisfies cond, and returns it; tb is the (sub)test that waits. cond says
// what it saw when it is not satisfied, for the failure message.
func (a *Agent) WaitTask(tb testing.TB, name string, timeout time.Duration, cond func(apiv1.Task) (bool, string)) apiv1.Task {
	tb.Helper()
	var found apiv1.Task
	a.WaitFor(tb, "task of "+name, timeout, func() (bool, string) {
		tasks, err := a.Tasks()
		if err != nil {
			return false, err.Error()
		}
		mine := TasksOf(tasks, name)
		if len(mine) == 0 {
			return false, fmt.Sprintf("no task for %s among %d tasks", name, len(tasks))
		}
		found = mine[len(mine)-1]
		return cond(found)
	})
	return found
}

// WaitFor polls cond until it holds, failing tb after timeout, or at once
// if the agent died without being told to.
func (a *Agent) WaitFor(tb testing.TB, what string, timeout time.Duration, cond func() (bool, string)) {
	tb.Helper()
	a.waitEvery(tb, what, timeout, pollEvery, cond)
}

// waitEvery is WaitFor polling at every.
func (a *Agent) waitEvery(tb testing.TB, what string, timeout, every time.Duration, cond func() (bool, string)) {
	tb.Helper()
	testwait.For(tb, what, timeout, every, func() (bool, string) {
		if err := a.unexpectedExit(); err != nil {
			tb.Fatalf("waiting for %s: %v", what, err)
		}
		return cond()
	})
}

// WaitFor polls cond until it holds, failing tb with cond's last word after
// timeout. It is testwait.For at the end-to-end tests' interval; benchmarks
// call testwait.For with a shorter one, for the resolution of what they time.
func WaitFor(tb testing.TB, what string, timeout time.Duration, cond func() (bool, string)) {
	tb.Helper()
	testwait.For(tb, what, timeout, pollEvery, cond)
}

// WaitHTTP waits until the host port on 127.0.0.1 answers the test app's
// "ok" (testapp serve).
func WaitHTTP(tb testing.TB, port int) {
	tb.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	client := &http.Client{Timeout: 2 * time.Second}
	WaitFor(tb, "HTTP ok from "+url, 15*time.Second, func() (bool, string) {
		resp, err := client.Get(url)
		if err != nil {
			return false, err.Error()
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200 && strings.HasPrefix(string(body), "ok"), fmt.Sprintf("%d %q", resp.StatusCode, body)
	})
}

// Describe renders a task's status compactly for failure messages.
func Describe(t apiv1.Task) string {
	var b strings.Builder
	fmt.Fprintf(&b, "task %s rev %d desired=%s known=%s", t.Name, t.Spec.Revision, t.Spec.DesiredStatus, t.Status.KnownStatus)
	if t.Status.StoppingReason != "" {
		fmt.Fprintf(&b, " stopping=%q", t.Status.StoppingReason)
	}
	if t.Status.StoppedReason != "" {
		fmt.Fprintf(&b, " stopped=%q", t.Status.StoppedReason)
	}
	if t.Spec.DefinitionError != "" {
		fmt.Fprintf(&b, " definitionError=%q", t.Spec.DefinitionError)
	}
	for _, c := range t.Status.Containers {
		fmt.Fprintf(&b, " [%s %s", c.Name, c.KnownStatus)
		if c.ExitCode != nil {
			fmt.Fprintf(&b, " exit=%d", *c.ExitCode)
		}
		if c.Health != nil {
			fmt.Fprintf(&b, " health=%s", c.Health.Status)
		}
		if c.Reason != "" {
			fmt.Fprintf(&b, " reason=%q", c.Reason)
		}
		b.WriteString("]")
	}
	return b.String()
}

// IsRunning holds when the task and every one of its containers are RUNNING.
func IsRunning(t apiv1.Task) (bool, string) {
	if t.Status.KnownStatus != apiv1.StatusRunning || len(t.Status.Containers) != len(t.Spec.Containers) {
		return false, Describe(t)
	}
	for _, c := range t.Status.Containers {
		if c.KnownStatus != apiv1.StatusRunning {
			return false, Describe(t)
		}
	}
	return true, ""
}

// IsStopped holds when the task is STOPPED.
func IsStopped(t apiv1.Task) (bool, string) {
	return t.Status.KnownStatus == apiv1.StatusStopped, Describe(t)
}

// Container returns the status of the task's named container, failing tb
// if there is none.
func Container(tb testing.TB, t apiv1.Task, name string) apiv1.ContainerStatus {
	tb.Helper()
	cs := t.Status.ContainerStatusFor(name)
	if cs == nil {
		tb.Fatalf("no container %s in %s", name, Describe(t))
	}
	return *cs
}

// IntrospectionTasks is the body of the introspection API's /v1/tasks, in
// the ECS agent's field names.
type IntrospectionTasks struct {
	Tasks []IntrospectionTask `json:"Tasks"`
}

// IntrospectionTask is one task of /v1/tasks.
type IntrospectionTask struct {
	Arn           string                   `json:"Arn"`
	DesiredStatus string                   `json:"DesiredStatus"`
	KnownStatus   string                   `json:"KnownStatus"`
	Family        string                   `json:"Family"`
	Version       string                   `json:"Version"`
	Containers    []IntrospectionContainer `json:"Containers"`
}

// IntrospectionContainer is one container of a /v1/tasks task.
type IntrospectionContainer struct {
	DockerID   string              `json:"DockerId"`
	DockerName string              `json:"DockerName"`
	Name       string              `json:"Name"`
	Image      string              `json:"Image"`
	ImageID    string              `json:"ImageID"`
	Ports      []IntrospectionPort `json:"Ports"`
	// CreatedAt and StartedAt are as the endpoint writes them.
	CreatedAt    string                `json:"CreatedAt"`
	StartedAt    string                `json:"StartedAt"`
	Volumes      []IntrospectionVolume `json:"Volumes"`
	RestartCount *int                  `json:"RestartCount"`
}

// IntrospectionVolume is one mount of a /v1/tasks container.
type IntrospectionVolume struct {
	DockerName  string `json:"DockerName"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
}

// IntrospectionPort is one port binding of a /v1/tasks container.
type IntrospectionPort struct {
	ContainerPort int    `json:"ContainerPort"`
	Protocol      string `json:"Protocol"`
	HostPort      int    `json:"HostPort"`
}

// V1Tasks fetches and decodes the introspection API's /v1/tasks.
func (a *Agent) V1Tasks() (IntrospectionTasks, error) {
	var out IntrospectionTasks
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(a.URL("/v1/tasks"))
	if err != nil {
		return out, fmt.Errorf("GET /v1/tasks: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return out, fmt.Errorf("GET /v1/tasks: read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("GET /v1/tasks: %s: %.300s", resp.Status, body)
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return out, fmt.Errorf("GET /v1/tasks: decode: %w: %.300s", err, body)
	}
	return out, nil
}
