package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

func TestGetTasksJSONReadsStoppedAgentsStore(t *testing.T) {
	dir := stoppedAgent(t)
	out, errOut, err := run(t, dir, silentPort(t), "get", "tasks", "-o", "json")
	if err != nil {
		t.Fatalf("get tasks -o json: %v (stderr %s)", err, errOut)
	}
	var list apiv1.TaskList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("stdout is not a TaskList: %v\n%s", err, out)
	}
	if list.APIVersion != "agent.ecs.local/v1" || list.Kind != "TaskList" || len(list.Items) != 2 {
		t.Errorf("got %s/%s with %d items", list.APIVersion, list.Kind, len(list.Items))
	}
	if list.Items[0].Kind != "Task" || list.Items[0].Spec.Arn != webArn {
		t.Errorf("first item: kind %q arn %q", list.Items[0].Kind, list.Items[0].Spec.Arn)
	}
	if !strings.Contains(errOut, "does not answer") {
		t.Errorf("stderr does not say the store is read directly: %q", errOut)
	}
}

func TestGetPrintsTables(t *testing.T) {
	dir := stoppedAgent(t)
	port := silentPort(t)
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		notWant []string
	}{
		{"tasks", []string{"get", "tasks"},
			[]string{"NAME", "FAMILY:REV", "DESIRED", "KNOWN", "CONTAINERS", "PORTS", "AGE", webTask, "web:3", "1/2", "32768->80/tcp", "batch:1"},
			[]string{"ARN", "STOPPED-REASON"}},
		{"tasks wide", []string{"get", "t", "-o", "wide"},
			[]string{"ARN", "STOPPED-REASON", "SOURCE", webArn, "Essential container in task exited", "static:/etc/ecs/tasks.d/web.json"}, nil},
		{"one task by prefix", []string{"get", "task", "0123"}, []string{webTask}, []string{batchTask}},
		{"containers", []string{"get", "containers"},
			[]string{"TASK", "DOCKER-ID", "EXIT", "HEALTH", "aaaaaaaaaaaa ", "HEALTHY", "137", "nginx:1"}, []string{webID}},
		{"images", []string{"get", "images"},
			[]string{"REF", "PHASE", "LAST-USED", "USERS", "nginx:1", "Present", "0123456789ab", "187MB", "s ago"}, nil},
		{"ports", []string{"get", "port"},
			[]string{"PORT/PROTO", "CONTAINER-PORT", "DYNAMIC", "32768/tcp", "true"}, nil},
		{"events", []string{"get", "events"}, []string{"started container web", "Task/" + batchTask}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := run(t, dir, port, tc.args...)
			if err != nil {
				t.Fatalf("%v (stderr %s)", err, errOut)
			}
			checkOutput(t, out, tc.want, tc.notWant)
		})
	}
}

func TestGetRefusesBadInput(t *testing.T) {
	dir := stoppedAgent(t)
	port := silentPort(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown type", []string{"get", "pods"}, `unknown type "pods"`},
		{"unknown format", []string{"get", "tasks", "-o", "xml"}, `unknown output format "xml"`},
		{"missing task", []string{"get", "tasks", "ffff"}, `Task "ffff" not found`},
		{"ambiguous prefix", []string{"get", "tasks", "0"}, "ambiguous"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, dir, port, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLockedStoreWithSilentPortIsReportedAsSuch(t *testing.T) {
	dir, _, _ := runningAgent(t) // holds the lock
	port := silentPort(t)
	_, _, err := run(t, dir, port, "get", "tasks")
	if err == nil || !strings.Contains(err.Error(), "is locked") || !strings.Contains(err.Error(), "127.0.0.1:"+itoa(port)) {
		t.Errorf("error = %v, want one saying the store is locked and port %d is silent", err, port)
	}
}

func TestNoAgentAndNoStoreIsReportedAsSuch(t *testing.T) {
	_, _, err := run(t, t.TempDir(), silentPort(t), "get", "tasks")
	if err == nil || !strings.Contains(err.Error(), "no agent answers") {
		t.Errorf("error = %v", err)
	}
}

func TestGetReadsTheRunningAgent(t *testing.T) {
	dir, port, _ := runningAgent(t)
	out, errOut, err := run(t, dir, port, "get", "tasks", "-o", "yaml")
	if err != nil {
		t.Fatalf("%v (stderr %s)", err, errOut)
	}
	checkOutput(t, out, []string{"apiVersion: agent.ecs.local/v1", "kind: TaskList", "family: web"}, nil)
	if errOut != "" {
		t.Errorf("stderr = %q, want nothing when the agent answers", errOut)
	}
}

// waitFor waits until the buffer holds s.
func waitFor(t *testing.T, b *syncBuffer, s string) {
	t.Helper()
	testwait.For(t, fmt.Sprintf("output showing %q", s), 5*time.Second, 10*time.Millisecond, func() (bool, string) {
		out := b.String()
		return strings.Contains(out, s), "\n" + out
	})
}

func TestGetWatchPrintsChangesAsTheyHappen(t *testing.T) {
	dir, port, s := runningAgent(t)
	root, out, errOut := command(t, dir, port, "get", "tasks", "--watch")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	waitFor(t, out, webTask)
	task := &apiv1.Task{ObjectMeta: metav1.ObjectMeta{Name: "feedfacefeedfacefeedfacefeedface"},
		Spec: apiv1.TaskSpec{Family: "late", Revision: 7, DesiredStatus: apiv1.StatusRunning}}
	if err := s.Create(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, "late:7")
	if n := strings.Count(out.String(), webTask); n != 1 {
		t.Errorf("the web task shows %d times, want once (no replay of the list):\n%s", n, out.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("watch ended with %v (stderr %s)", err, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch did not end after its context was cancelled")
	}
}

func TestWatchOnStoppedAgentPrintsOnceAndSaysWhy(t *testing.T) {
	out, errOut, err := run(t, stoppedAgent(t), silentPort(t), "get", "tasks", "-w")
	if err != nil || !strings.Contains(out, webTask) || !strings.Contains(errOut, "not running") {
		t.Errorf("err %v, stdout %q, stderr %q", err, out, errOut)
	}
}
