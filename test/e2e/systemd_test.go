package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/internal/systemd/notifytest"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// TestSystemdUnitPassesVerify runs `systemd-analyze verify` on
// config/ecs-agent.service as installed: in a private mount namespace where
// /usr/local/bin holds the built agent (verify checks that ExecStart is
// executable), so the host is left as it was. Any word from verify fails
// the test: it warns about unknown keys and bad values with status 0.
func TestSystemdUnitPassesVerify(t *testing.T) {
	t.Parallel()
	root, err := h.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root, for a private mount namespace that puts the agent in /usr/local/bin (make test runs as root)")
	}
	if out, err := exec.Command(filepath.Join(root, "hack", "ensure-systemd-analyze.sh")).CombinedOutput(); err != nil {
		t.Fatalf("hack/ensure-systemd-analyze.sh: %v\n%s", err, out)
	}
	unit := filepath.Join(root, "config", "ecs-agent.service")
	content, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nType=notify\n", "\nNotifyAccess=main\n", "\nWatchdogSec=", "\nKillMode=process\n", "\nExecStart=/usr/local/bin/ecs-agent run\n"} {
		if !strings.Contains(string(content), want) {
			t.Errorf("%s lacks %q", unit, strings.TrimSpace(want))
		}
	}
	cmd := exec.Command("unshare", "--mount", "sh", "-c",
		`mount --make-rprivate / && mount --bind "$1" /usr/local/bin && exec systemd-analyze verify "$2"`,
		"sh", filepath.Dir(h.Binary(t)), unit)
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
}

// TestAgentNotifiesSystemdWhenReadyAndPingsTheWatchdog runs the agent with
// NOTIFY_SOCKET and WATCHDOG_USEC as systemd sets them for a Type=notify
// unit with WatchdogSec, and listens on that socket as systemd does: READY=1
// comes when /readyz answers 200, WATCHDOG=1 pings follow at half the
// interval, and SIGTERM sends STOPPING=1.
func TestAgentNotifiesSystemdWhenReadyAndPingsTheWatchdog(t *testing.T) {
	t.Parallel()
	var agent atomic.Pointer[h.Agent] // set before it starts, read as it sends
	readyz := make(chan int, 10)      // /readyz's status code as each READY=1 arrives
	sock, msgs := notifytest.Listen(t, func(m notifytest.Message) {
		if !strings.Contains(m.Text, "READY=1") {
			return
		}
		code := 0
		if resp, err := http.Get(agent.Load().URL("/readyz")); err == nil {
			code = resp.StatusCode
			resp.Body.Close()
		}
		readyz <- code
	})
	a := h.New(t, h.Options{Env: []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=1000000"}})
	agent.Store(a)
	a.Start()

	var ready time.Time
	var pings []time.Time
	h.WaitFor(t, "READY=1 and then two watchdog pings", 20*time.Second, func() (bool, string) {
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatal("notify socket closed")
				}
				switch {
				case strings.Contains(m.Text, "READY=1"):
					if code := <-readyz; code != http.StatusOK {
						t.Errorf("READY=1 sent while /readyz answered %d", code)
					}
					ready = m.At
				case strings.Contains(m.Text, "WATCHDOG=1") && !ready.IsZero():
					pings = append(pings, m.At)
				}
				continue
			default:
			}
			return !ready.IsZero() && len(pings) >= 2, fmt.Sprintf("READY=1 at %v, %d pings since", ready, len(pings))
		}
	})
	if gap := pings[1].Sub(pings[0]); gap < 300*time.Millisecond || gap > 900*time.Millisecond {
		t.Errorf("watchdog pings %s apart, want about half of WATCHDOG_USEC (500ms)", gap)
	}

	if err := a.Stop(); err != nil {
		t.Fatalf("agent exit after SIGTERM: %v", err)
	}
	h.WaitFor(t, "STOPPING=1", 5*time.Second, func() (bool, string) {
		for {
			select {
			case m, ok := <-msgs:
				if !ok || strings.Contains(m.Text, "STOPPING=1") {
					return ok, "notify socket closed"
				}
			default:
				return false, "no STOPPING=1 yet"
			}
		}
	})
}
