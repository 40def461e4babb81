package harness

import (
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
)

// WaitExit waits for the agent to exit on its own (a terminal error) and
// returns its exit status.
func (a *Agent) WaitExit(timeout time.Duration) int {
	a.tb.Helper()
	a.mu.Lock()
	p := a.proc
	a.mu.Unlock()
	if p == nil {
		a.tb.Fatalf("agent was never started")
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		a.tb.Fatalf("agent still running after %s; log tail:\n%s", timeout, a.LogTail(30))
	}
	a.mu.Lock()
	a.stopped = true
	a.mu.Unlock()
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	return 0
}

// WaitSession waits until the agent's container instance has an ACS
// session open at the fake and returns the instance's ARN.
func (a *ECSAgent) WaitSession(tb testing.TB, timeout time.Duration) string {
	tb.Helper()
	var arn string
	a.WaitFor(tb, "an ACS session of the agent", timeout, func() (bool, string) {
		cis := a.Instances()
		if len(cis) != 1 {
			return false, "not registered yet"
		}
		arn = aws.ToString(cis[0].ContainerInstanceArn)
		for _, s := range a.ECS.ACSSessions() {
			if s.Instance == arn {
				return true, ""
			}
		}
		return false, "no session open"
	})
	return arn
}

// Frames returns the recorded ACS frames of one direction and type
// (fakeecs.FrameIn: from the agent).
func (e *ECS) Frames(dir, typ string) []fakeecs.ACSFrame {
	var out []fakeecs.ACSFrame
	for _, f := range e.ACSFrames() {
		if f.Direction == dir && f.Type == typ {
			out = append(out, f)
		}
	}
	return out
}
