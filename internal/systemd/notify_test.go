package systemd

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/ecs-agent/ecs-agent/internal/systemd/notifytest"
)

// listen stands in for systemd: a notify socket set as NOTIFY_SOCKET, and
// WATCHDOG_USEC when watchdog is not 0.
func listen(t *testing.T, watchdog time.Duration) <-chan notifytest.Message {
	t.Helper()
	path, msgs := notifytest.Listen(t, nil)
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "")
	if watchdog > 0 {
		t.Setenv("WATCHDOG_USEC", strconv.FormatInt(watchdog.Microseconds(), 10))
	}
	return msgs
}

// next returns the next message containing want, failing after timeout; it
// also returns the messages it passed over.
func next(t *testing.T, msgs <-chan notifytest.Message, want string, timeout time.Duration) (string, []string) {
	t.Helper()
	var skipped []string
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("notify socket closed while waiting for %q", want)
			}
			if strings.Contains(m.Text, want) {
				return m.Text, skipped
			}
			skipped = append(skipped, m.Text)
		case <-deadline:
			t.Fatalf("no %q within %s; got %q", want, timeout, skipped)
		}
	}
}

func TestNotifierSendsReadyOnlyOnceReadyAndPingsWhileHealthy(t *testing.T) {
	const watchdog = 200 * time.Millisecond
	msgs := listen(t, watchdog)
	var ready, healthy atomic.Bool
	healthy.Store(true)
	n := &Notifier{
		Ready: func() error {
			if !ready.Load() {
				return errors.New("docker state not synced yet")
			}
			return nil
		},
		Healthy: func() error {
			if !healthy.Load() {
				return errors.New("task controller has been reconciling t1 for 11m0s (limit 10m0s)")
			}
			return nil
		},
		Log:       logr.Discard(),
		ReadyPoll: 10 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			<-done
		}
	}()

	// Starting: the reason is shown, and the watchdog is pinged (the start
	// timeout bounds the start, not the watchdog), but no READY.
	next(t, msgs, "STATUS=starting: docker state not synced yet", time.Second)
	_, before := next(t, msgs, "WATCHDOG=1", time.Second)
	_, more := next(t, msgs, "WATCHDOG=1", time.Second)
	for _, m := range append(before, more...) {
		if strings.Contains(m, "READY=1") {
			t.Fatalf("READY=1 sent while not ready: %q", m)
		}
	}

	ready.Store(true)
	next(t, msgs, "READY=1", time.Second)
	next(t, msgs, "WATCHDOG=1", time.Second)
	next(t, msgs, "WATCHDOG=1", time.Second)

	healthy.Store(false)
	next(t, msgs, "STATUS=unhealthy: task controller has been reconciling t1", time.Second)
	// Absence can only be watched for a while: three whole watchdog
	// intervals without a ping are what makes systemd restart the agent.
	quiet := time.After(3 * watchdog)
	for waiting := true; waiting; {
		select {
		case m := <-msgs:
			if strings.Contains(m.Text, "WATCHDOG=1") {
				t.Fatalf("watchdog pinged while unhealthy: %q", m)
			}
		case <-quiet:
			waiting = false
		}
	}

	healthy.Store(true)
	next(t, msgs, "STATUS=ready", time.Second)
	next(t, msgs, "WATCHDOG=1", time.Second)

	cancel()
	stopped = true
	if err := <-done; err != nil {
		t.Errorf("Run() = %v, want nil", err)
	}
	next(t, msgs, "STOPPING=1", time.Second)
}

func TestNotifierDoesNothingOutsideSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := &Notifier{
		Ready:   func() error { t.Error("Ready called outside systemd"); return nil },
		Healthy: func() error { return nil },
		Log:     logr.Discard(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Run(ctx); err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Run did not return at once without NOTIFY_SOCKET")
	}
}
