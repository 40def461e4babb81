package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
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
