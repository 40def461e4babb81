package harness

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
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
	hostRules.Lock()
	env := append(a.env(), extraEnv...)
	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, a.bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	a.tb.Cleanup(func() {
		defer hostRules.Unlock()
		if out, err := run("setup-host", "--undo"); err != nil {
			a.tb.Errorf("ecs-agent setup-host --undo: %v\n%s", err, out)
		}
	})
	out, err := run("setup-host")
	if err != nil {
		a.tb.Fatalf("ecs-agent setup-host: %v\n%s", err, out)
	}
	a.tb.Logf("ecs-agent setup-host:\n%s", out)
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
