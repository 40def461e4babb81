package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// maxStartupLines is how long an info-level start may be, up to ready:
// the start, the configuration, the reconcilers, the static source and
// Docker's sync, with room for one more. controller-runtime alone used to
// print about 30.
const maxStartupLines = 6

// TestInfoLevelStartUpIsShortAndAlsoGoesToTheLogFile starts an agent at
// ECS_LOGLEVEL=info with ECS_LOGFILE set: up to ready it logs a handful of
// lines, none of them controller-runtime's per-controller chatter, and
// writes them both to stderr and to the file, as the ECS agent does.
func TestInfoLevelStartUpIsShortAndAlsoGoesToTheLogFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "log", "ecs-agent.log")
	a := h.Start(t, h.Options{Env: []string{"ECS_LOGLEVEL=info", "ECS_LOGFILE=" + file}})

	written, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("ECS_LOGFILE: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(written)), "\n")
	if len(lines) > maxStartupLines {
		t.Errorf("%d info lines up to ready, want at most %d:\n%s", len(lines), maxStartupLines, written)
	}
	for _, want := range []string{"ecs-agent starting", "reconcilers started", "docker state synced"} {
		if !strings.Contains(string(written), want) {
			t.Errorf("no %q line in the log file:\n%s", want, written)
		}
	}
	for _, chatter := range []string{"Starting EventSource", "Starting workers"} {
		if strings.Contains(string(written), chatter) {
			t.Errorf("controller-runtime's %q at info level:\n%s", chatter, written)
		}
	}
	if len(a.LogLines("reconcilers started")) != 1 {
		t.Errorf("stderr lacks the start-up lines the file has:\n%s", a.LogTail(20))
	}
}
