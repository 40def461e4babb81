package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/gorilla/websocket"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	"github.com/ecs-agent/ecs-agent/internal/acs"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// With ACS the poll is only a backstop (every 5 min while a session is up);
// ECS_POLL_INTERVAL=1h rules out the first minutes' polls as the cause of
// anything these tests see, beside the one at start-up.
const (
	noPolls        = "ECS_POLL_INTERVAL=1h"
	sessionTimeout = 20 * time.Second
	// silenceLimit is the agent's silence timeout at its longest (60 s +
	// 60 s) plus the first backoff and a margin.
	silenceLimit = 135 * time.Second
)

// ecsTaskRoles gives a task both roles, so that ACS sends it credentials.
var ecsTaskRoles = types.TaskOverride{
	TaskRoleArn:      aws.String("arn:aws:iam::123456789012:role/e2e-app"),
	ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/e2e-exec"),
}

// payloadAcks counts the agent's AckRequests per payload messageId.
func payloadAcks(e *h.ECS) (payloads []string, acks map[string]int) {
	acks = map[string]int{}
	for _, f := range e.Frames(fakeecs.FrameOut, "PayloadMessage") {
		if !slices.Contains(payloads, f.MessageID) {
			payloads = append(payloads, f.MessageID)
		}
	}
	for _, f := range e.Frames(fakeecs.FrameIn, "AckRequest") {
		acks[f.MessageID]++
	}
	return payloads, acks
}

func TestACSRunTaskRunsWithoutAPollStopTaskStopsAtOnceAndEachPayloadIsAckedOnce(t *testing.T) {
	t.Parallel()
	e := h.StartECSWithACS(t)
	a := e.StartAgent(t, h.Options{Env: []string{noPolls}})
	inst := a.WaitSession(t, sessionTimeout)
	if ci := a.Instance(t); !ci.AgentConnected {
		t.Errorf("agentConnected is false with the session open (instance %s)", inst)
	}
	polls := e.CallCount("ListTasks")

	start := time.Now()
	svc := a.RunTask(h.Task("svc", h.App("web", "serve", "8080").Port(8080, 0)))
	a.WaitReports(t, svc, 30*time.Second, h.HasReport("task RUNNING"))
	t.Logf("RunTask → RUNNING reported in %v", time.Since(start).Round(time.Millisecond))
	if n := e.CallCount("ListTasks"); n != polls {
		t.Errorf("%d ListTasks calls since RunTask: the task came by a poll, want it pushed", n-polls)
	}

	a.StopTask(svc, "e2e: stop over ACS")
	stopped := time.Now()
	task := a.WaitECSTask(t, svc, 30*time.Second, func(t apiv1.Task) (bool, string) {
		return t.Status.StoppingAt != nil, "not stopping yet"
	})
	if d := task.Status.StoppingAt.Sub(stopped); d > time.Second {
		t.Errorf("the stop began %v after StopTask, want at once (pushed)", d)
	}
	a.WaitECSTask(t, svc, startTimeout+reportTimeout, stoppedAndReported)

	a.WaitFor(t, "heartbeats acked", 10*time.Second, func() (bool, string) {
		return len(e.Frames(fakeecs.FrameIn, "HeartbeatAckRequest")) >= 2, "fewer than 2 heartbeat acks"
	})
	for _, hb := range e.Frames(fakeecs.FrameOut, "HeartbeatMessage") {
		if time.Since(hb.Time) < 2*time.Second {
			continue // its ack may still be on the way
		}
		if !slices.ContainsFunc(e.Frames(fakeecs.FrameIn, "HeartbeatAckRequest"), func(f fakeecs.ACSFrame) bool { return f.MessageID == hb.MessageID }) {
			t.Errorf("heartbeat %s not acked", hb.MessageID)
		}
	}
	payloads, acks := payloadAcks(e)
	if len(payloads) != 2 {
		t.Errorf("%d payloads sent, want 2 (RunTask, StopTask)", len(payloads))
	}
	for _, id := range payloads {
		if acks[id] != 1 {
			t.Errorf("payload %s acked %d times, want once", id, acks[id])
		}
	}
	if n := e.CallCount("ListTasks"); n != polls {
		t.Errorf("%d ListTasks calls while the session was up, want none", n-polls)
	}
}

func TestACSPayloadResentAfterKill9RunsTheTaskOnce(t *testing.T) {
	t.Parallel()
	e := h.StartECSWithACS(t)
	a := e.StartAgent(t, h.Options{Env: []string{noPolls}})
	inst := a.WaitSession(t, sessionTimeout)
	// The agent persists the task, but its ack never counts: as if it died
	// between receiving and acking.
	e.SetACSFault(fakeecs.ACSFault{DropAcks: true})
	arn := a.RunTask(h.Task("once", h.App("app", "sleep")))
	first := a.WaitECSTask(t, arn, startTimeout, h.IsRunning)
	a.Kill()
	e.SetACSFault(fakeecs.ACSFault{})
	if n := e.PendingPayloads(inst); n != 1 {
		t.Fatalf("%d payloads pending, want the unacked one", n)
	}
	a.Start()
	a.WaitFor(t, "the resent payload acked", 20*time.Second, func() (bool, string) {
		return e.PendingPayloads(inst) == 0, "still pending"
	})
	again := a.WaitECSTask(t, arn, startTimeout, h.IsRunning)
	if got, want := h.Container(t, again, "app").DockerID, h.Container(t, first, "app").DockerID; got != want {
		t.Errorf("container %s after the resent payload, want the same %s", got, want)
	}
	ids, err := h.ContainerIDs("com.amazonaws.ecs.task-arn=" + arn)
	if err != nil || len(ids) != 1 {
		t.Errorf("docker has %d containers of the task (%v), want 1", len(ids), err)
	}
	if sent := len(e.Frames(fakeecs.FrameOut, "PayloadMessage")); sent != 2 {
		t.Errorf("%d payloads sent, want the original and one resend", sent)
	}
}

func TestACSCredentialsAreAckedWithTheirIDAndAskedForOnlyOnAProcesssFirstSession(t *testing.T) {
	t.Parallel()
	e := h.StartECSWithACS(t)
	a := e.StartAgent(t, h.Options{Env: []string{noPolls, "ECS_ENABLE_TASK_IAM_ROLE=true"}})
	inst := a.WaitSession(t, sessionTimeout)
	sessions := e.ACSSessions()
	if len(sessions) != 1 || !sessions[0].SendCredentials {
		t.Fatalf("first session %+v, want sendCredentials=true", sessions)
	}

	def := h.Task("roles", h.App("app", "sleep"))
	arnDef := e.RegisterTaskDefinition(def)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := e.Client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(a.ECSCluster), TaskDefinition: aws.String(arnDef),
		Overrides: &ecsTaskRoles})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("RunTask: %v", err)
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	payload := e.Frames(fakeecs.FrameOut, "PayloadMessage")[0]
	var pm acs.PayloadMessage
	if err := json.Unmarshal(payload.Message, &pm); err != nil || len(pm.Tasks) != 1 || pm.Tasks[0].RoleCredentials == nil || pm.Tasks[0].ExecutionRoleCredentials == nil {
		t.Fatalf("payload %s: %v, want a task with both roles' credentials", payload.Message, err)
	}
	wantAck := func(what, msgID, credID string) {
		t.Helper()
		a.WaitFor(t, what+" acked", 10*time.Second, func() (bool, string) {
			for _, f := range e.Frames(fakeecs.FrameIn, "IAMRoleCredentialsAckRequest") {
				var ack acs.IAMRoleCredentialsAckRequest
				if json.Unmarshal(f.Message, &ack) == nil && ack.MessageID == msgID && ack.CredentialsID == credID {
					return true, ""
				}
			}
			return false, "no IAMRoleCredentialsAckRequest{" + msgID + ", " + credID + "}"
		})
	}
	wantAck("task role credentials of the payload", pm.MessageID, pm.Tasks[0].RoleCredentials.CredentialsID)
	wantAck("execution role credentials of the payload", pm.MessageID, pm.Tasks[0].ExecutionRoleCredentials.CredentialsID)
	a.WaitECSTask(t, arn, startTimeout, h.IsRunning)
	renewed, ok := e.RefreshCredentials(arn, acs.RoleTypeTaskApplication)
	if !ok {
		t.Fatal("RefreshCredentials found no task role")
	}
	refresh := e.Frames(fakeecs.FrameOut, "IAMRoleCredentialsMessage")
	wantAck("the renewal", refresh[len(refresh)-1].MessageID, renewed.CredentialsID)

	// A normal close reconnects at once, without asking for credentials.
	closed := time.Now()
	e.CloseACS(inst, websocket.CloseNormalClosure, "ConnectionExpired")
	a.WaitFor(t, "the reconnect", 10*time.Second, func() (bool, string) {
		return e.ACSSessionsOpened(inst) == 2 && len(e.ACSSessions()) == 1, "not reconnected"
	})
	if d := time.Since(closed); d > 2*time.Second {
		t.Errorf("reconnect after close 1000 took %v, want at once", d)
	}
	if s := e.ACSSessions()[0]; s.SendCredentials {
		t.Error("the reconnect of the same process asked for credentials again")
	}
	// Any other close backs off first (250 ms and up).
	closed = time.Now()
	e.CloseACS(inst, 4000, "go away")
	a.WaitFor(t, "the reconnect after close 4000", 10*time.Second, func() (bool, string) {
		return e.ACSSessionsOpened(inst) == 3, "not reconnected"
	})
	if d := time.Since(closed); d < 250*time.Millisecond {
		t.Errorf("reconnect after close 4000 took %v, want the backoff (≥ 250 ms)", d)
	}
	// A new process does: ACS then pushes every credentials of its tasks.
	before := len(e.Frames(fakeecs.FrameOut, "IAMRoleCredentialsMessage"))
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	a.Start()
	a.WaitFor(t, "a new process's session", sessionTimeout, func() (bool, string) {
		s := e.ACSSessions()
		return e.ACSSessionsOpened(inst) == 4 && len(s) == 1 && s[0].SendCredentials, "no new session asking for credentials"
	})
	a.WaitFor(t, "every credentials pushed and acked", 10*time.Second, func() (bool, string) {
		pushed := e.Frames(fakeecs.FrameOut, "IAMRoleCredentialsMessage")[before:]
		if len(pushed) != 2 {
			return false, "not both roles pushed"
		}
		for _, p := range pushed {
			var m acs.IAMRoleCredentialsMessage
			if err := json.Unmarshal(p.Message, &m); err != nil {
				return false, err.Error()
			}
			wantAck("pushed "+m.RoleType, m.MessageID, m.RoleCredentials.CredentialsID)
		}
		return true, ""
	})
}

func TestACSManifestStopVerificationStopsATaskWhosePushWasLost(t *testing.T) {
	t.Parallel()
	e := h.StartECSWithACS(t)
	a := e.StartAgent(t, h.Options{Env: []string{noPolls}})
	inst := a.WaitSession(t, sessionTimeout)
	keep := a.RunTask(h.Task("keep", h.App("app", "sleep")))
	lost := a.RunTask(h.Task("lost", h.App("app", "sleep")))
	a.WaitECSTask(t, keep, startTimeout, h.IsRunning)
	a.WaitECSTask(t, lost, startTimeout, h.IsRunning)
	e.LoseStop(lost, "e2e: stop whose push is lost")
	id := e.SendManifest(inst)
	a.WaitECSTask(t, lost, startTimeout+reportTimeout, stoppedAndReported)
	var candidates []string
	for _, f := range e.Frames(fakeecs.FrameIn, "TaskStopVerificationMessage") {
		var m acs.TaskStopVerificationMessage
		if json.Unmarshal(f.Message, &m) == nil && m.MessageID == id {
			for _, c := range m.StopCandidates {
				candidates = append(candidates, c.TaskArn)
			}
		}
	}
	if !slices.Equal(candidates, []string{lost}) {
		t.Errorf("stop candidates of the manifest %v, want only %s", candidates, lost)
	}
	if !slices.ContainsFunc(e.Frames(fakeecs.FrameIn, "AckRequest"), func(f fakeecs.ACSFrame) bool { return f.MessageID == id }) {
		t.Error("the manifest was not acked")
	}
	if task, _, _ := a.ECSTask(keep); task.Spec.DesiredStatus != apiv1.StatusRunning {
		t.Errorf("the task the manifest lists RUNNING is %s", task.Spec.DesiredStatus)
	}
}

func TestACSSilentEndpointIsLeftAndReconnectedWithPollingMeanwhile(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the agent's 60–120 s silence timeout")
	}
	t.Parallel()
	e := h.StartECSWithACS(t)
	a := e.StartAgent(t, h.Options{Env: []string{"ECS_POLL_INTERVAL=1s"}})
	inst := a.WaitSession(t, sessionTimeout)
	polls := e.CallCount("ListTasks")
	// The session is up: the 1 s interval is not used.
	time.Sleep(3 * time.Second)
	if n := e.CallCount("ListTasks") - polls; n > 2 {
		t.Errorf("%d ListTasks calls in 3 s with the session up, want at most one poll (2 calls)", n)
	}
	polls = e.CallCount("ListTasks")
	e.SetACSFault(fakeecs.ACSFault{Silent: true})
	silent := time.Now()
	a.WaitFor(t, "a reconnect after the silence", silenceLimit, func() (bool, string) {
		return e.ACSSessionsOpened(inst) >= 2, "no second session yet"
	})
	e.SetACSFault(fakeecs.ACSFault{})
	t.Logf("reconnected %v after the endpoint went silent", time.Since(silent).Round(time.Second))
	if d := time.Since(silent); d < 60*time.Second {
		t.Errorf("left the session after %v of silence, want the 60–120 s timeout", d)
	}
	// The dropped session woke the poller: polling covered the gap.
	if n := e.CallCount("ListTasks") - polls; n < 2 {
		t.Errorf("%d ListTasks calls since the session went silent, want the poll the drop called for", n)
	}
	svc := a.RunTask(h.Task("after", h.App("app", "sleep")))
	a.WaitECSTask(t, svc, startTimeout, h.IsRunning)
}

func TestACSRefusingTheDeregisteredInstanceStopsTheAgentWithStatus5(t *testing.T) {
	t.Parallel()
	e := h.StartECSWithACS(t)
	a := e.StartAgent(t, h.Options{Env: []string{noPolls}})
	inst := a.WaitSession(t, sessionTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.Client.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{
		Cluster: aws.String(a.ECSCluster), ContainerInstance: aws.String(inst), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if code := a.WaitExit(30 * time.Second); code != 5 {
		t.Errorf("agent exited with %d, want 5", code)
	}
	if lines := a.LogLines("InactiveInstanceException"); len(lines) == 0 || !strings.Contains(strings.Join(lines, "\n"), "--reregister") {
		t.Errorf("log says %q; want the inactive instance and the way back (--reregister)", lines)
	}
	if ci := a.Instance(t); ci.AgentConnected {
		t.Error("agentConnected still true after the agent left")
	}
}

// TestACSSteadyStateAPICallsPerMinute measures what an idle instance with
// its ACS session up costs the ECS API, for docs/ecs.md. It runs for
// ACS_MEASURE (a duration, e.g. 6m) and only when that is set.
func TestACSSteadyStateAPICallsPerMinute(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("ACS_MEASURE"))
	if err != nil {
		t.Skip("set ACS_MEASURE=6m to measure the steady-state API calls with ACS up")
	}
	t.Parallel()
	e := h.StartECSWithACS(t)
	a := e.StartAgent(t, h.Options{Env: []string{"ECS_POLL_INTERVAL=10s"}})
	a.WaitSession(t, sessionTimeout)
	for i := range 3 {
		arn := a.RunTask(h.Task(fmt.Sprintf("steady%d", i), h.App("app", "sleep")))
		a.WaitReports(t, arn, reportTimeout, h.HasReport("task RUNNING"))
	}
	e.ResetCalls()
	time.Sleep(d)
	calls, total := e.Calls(), e.TotalCalls()
	perMinute := float64(total) / d.Minutes()
	t.Logf("%d calls in %v with ACS up and 3 tasks running: %.2f per minute; by action %v", total, d, perMinute, calls)
	if perMinute > 1 {
		t.Errorf("%.2f API calls per minute with ACS up, want at most 1", perMinute)
	}
}
