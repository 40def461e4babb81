package harness

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostRules serialises the tests that install the host rules: 169.254.170.2
// can lead to one agent's metadata port at a time.
var hostRules sync.Mutex

// SetupHost runs `ecs-agent setup-host` for this agent (its metadata and
// introspection ports) with extra environment (e.g.
// ECS_SKIP_LOCALHOST_TRAFFIC_FILTER=true), and `setup-host --undo` when the
// test ends. Tests change the host's iptables only this way. Only one
// agent's rules are installed at a time; a second caller waits.
func (a *Agent) SetupHost(extraEnv ...string) {
	a.tb.Helper()
	LockHostRules(a.tb)
	a.tb.Cleanup(func() {
		if out, err := a.RunSetupHost(extraEnv, "--undo"); err != nil {
			a.tb.Errorf("ecs-agent setup-host --undo: %v\n%s", err, out)
		}
	})
	out, err := a.RunSetupHost(extraEnv)
	if err != nil {
		a.tb.Fatalf("ecs-agent setup-host: %v\n%s", err, out)
	}
	a.tb.Logf("ecs-agent setup-host:\n%s", out)
}

// LockHostRules makes tb the only test of the process with host rules
// until it ends, as SetupHost does, for a test that installs and removes
// them itself (and undoes them in a cleanup registered after this call).
func LockHostRules(tb testing.TB) {
	tb.Helper()
	hostRules.Lock()
	tb.Cleanup(hostRules.Unlock)
}

// RunSetupHost runs `ecs-agent setup-host args…` on the host once for
// this agent, with extra environment, and returns its output.
func (a *Agent) RunSetupHost(extraEnv []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.bin, append([]string{"setup-host"}, args...)...)
	cmd.Env = append(a.env(), extraEnv...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Logs returns what a container wrote to stdout and stderr.
func Logs(id string) (string, error) {
	out, err := exec.Command("docker", "logs", id).CombinedOutput()
	return string(out), err
}

// Get fetches url with client and returns the status and the body; an
// error becomes status 0 and its text.
func Get(client *http.Client, url string) (int, string) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
