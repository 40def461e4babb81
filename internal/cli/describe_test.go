package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

func itoa(n int) string { return strconv.Itoa(n) }

func TestDescribeTaskShowsStatusContainersAndEvents(t *testing.T) {
	stopped := stoppedAgent(t)
	running, port, _ := runningAgent(t)
	for _, tc := range []struct {
		name string
		dir  string
		port int
		ref  string
	}{
		{"stopped agent, by prefix", stopped, silentPort(t), "0123"},
		{"running agent, by arn", running, port, webArn},
		{"running agent, by id", running, port, webTask},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := run(t, tc.dir, tc.port, "describe", "task", tc.ref)
			if err != nil {
				t.Fatalf("%v (stderr %s)", err, errOut)
			}
			checkOutput(t, out, []string{
				"Name:", webTask, "ARN:", webArn, "Family:", "web:3", "Known Status:", "RUNNING",
				"web:", "Docker ID:", webID, "Health:", "HEALTHY", "Ports:", "32768->80/tcp",
				"init:", "Exit Code:", "completed", "Environment:", "API_TOKEN",
				"Events:", "started container web", "(x3 over", "pulled for the web task",
			}, []string{"hunter2", "batch only", "pulled for an earlier task"})
		})
	}
}

func TestDescribeRefusesAmbiguousOrUnknownTasks(t *testing.T) {
	dir := stoppedAgent(t)
	port := silentPort(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"describe", "task", "0"}, "ambiguous"},
		{[]string{"describe", "task", "beef"}, "not found"},
		{[]string{"describe", "image", "x"}, "describe shows tasks"},
	} {
		_, _, err := run(t, dir, port, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error = %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestDescribeCompletesTaskIDs(t *testing.T) {
	dir := stoppedAgent(t)
	cfg := filepath.Join(t.TempDir(), "ecs.config")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	root := &cobra.Command{Use: "ecs-agent", SilenceUsage: true, SilenceErrors: true}
	addCommands(root, func() []string { return nil })
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	// The word being completed comes last.
	root.SetArgs([]string{"__complete", "describe", "--config", cfg, "--data-dir", dir,
		"--introspection-port", strconv.Itoa(silentPort(t)), "task", "01"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.Contains(got, webTask+"\tweb:3 RUNNING") || strings.Contains(got, batchTask) {
		t.Errorf("completions of `describe task 01` = %q, want the web task (id prefix 01) only, with its family and status", got)
	}
}

func TestDescribeSaysWhenAFutureTimeComes(t *testing.T) {
	now := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{now.Add(3*time.Hour - 10*time.Second), "in 2h59m"},
		{now.Add(42 * time.Second), "in 42s"},
		{now.Add(-5 * time.Minute), "5m ago"},
		{now, "0s ago"},
	} {
		if got := relative(now, tc.at); got != tc.want {
			t.Errorf("relative(now, now%+v) = %q, want %q", tc.at.Sub(now), got, tc.want)
		}
	}
	var b strings.Builder
	stopped := now.Add(-time.Second)
	cleanup := metav1.NewMicroTime(stopped.Add(3 * time.Hour))
	task := &apiv1.Task{Status: apiv1.TaskStatus{KnownStatus: apiv1.StatusStopped, CleanupAt: &cleanup}}
	describeTask(&b, task, nil, nil, now)
	if out := b.String(); !strings.Contains(out, "(in 2h59m)") || strings.Contains(out, "<invalid>") {
		t.Errorf("describe of a stopped task with its cleanup 3h after its stop:\n%s\nwant Cleanup At ... (in 2h59m)", out)
	}
}
