package e2e

import (
	"strings"
	"testing"
	"time"

	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// TestDescribeOfAPullFailureSaysTheErrorOnce runs a task whose image cannot
// be pulled (nothing listens at its registry) and reads `describe task` as
// a new user would: the daemon's error is told once among the events, on
// the image's PullFailed event with its retries counted, and once each in
// the task's and the container's reason; the cleanup time to come reads
// "in …", not "<invalid> ago".
func TestDescribeOfAPullFailureSaysTheErrorOnce(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("nopull.json", h.Task("nopull", h.ContainerDefinition{Name: "app", Image: "127.0.0.1:1/ecs-agent-e2e/nothing:1", Memory: 64}).JSON())
	task := a.WaitTask(t, "nopull.json", 60*time.Second, h.IsStopped)

	out, err := a.CLI("describe", "task", task.Name)
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	const daemonError = "connection refused"
	_, events, _ := strings.Cut(text, "\nEvents:")
	if n := strings.Count(events, daemonError); n != 1 {
		t.Errorf("the events tell %q %d times, want once:\n%s", daemonError, n, events)
	}
	if !strings.Contains(events, "(x3 over") {
		t.Errorf("the events do not count the 3 pull attempts on one event:\n%s", events)
	}
	if n := strings.Count(text, daemonError); n != 3 {
		t.Errorf("describe tells %q %d times, want 3 (stopped reason, container reason, one event):\n%s", daemonError, n, text)
	}
	if strings.Contains(text, "<invalid>") || !strings.Contains(text, "(in 59m)") {
		t.Errorf("Cleanup At an hour after the stop should read (in 59m):\n%s", text)
	}
}
