package fakeecs_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/go-logr/logr/testr"
	"github.com/gorilla/websocket"

	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	"github.com/ecs-agent/ecs-agent/internal/acs"
)

// agentSide is what an agent's ACS handler would do: it records what arrives, persists nothing,
// and says so (or not) as the test wants.
type agentSide struct {
	mu         sync.Mutex
	payloads   []*acs.PayloadMessage
	creds      []*acs.IAMRoleCredentialsMessage
	stopped    []string
	candidates []acs.TaskIdentifier
}

func (a *agentSide) Payload(_ context.Context, m *acs.PayloadMessage) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.payloads = append(a.payloads, m)
	return nil
}

func (a *agentSide) Credentials(_ context.Context, m *acs.IAMRoleCredentialsMessage) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.creds = append(a.creds, m)
	return nil
}

func (a *agentSide) Manifest(context.Context, *acs.TaskManifestMessage) ([]acs.TaskIdentifier, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.candidates, true, nil
}

func (a *agentSide) StopVerified(_ context.Context, m *acs.TaskStopVerificationAck) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range m.StopTasks {
		a.stopped = append(a.stopped, t.TaskArn)
	}
	return nil
}

func (a *agentSide) ServerMessage(context.Context, any) {}

func (a *agentSide) snapshot() (payloads []*acs.PayloadMessage, creds []*acs.IAMRoleCredentialsMessage, stopped []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.payloads), slices.Clone(a.creds), slices.Clone(a.stopped)
}

// startSession opens an ACS session the way the agent does: DiscoverPollEndpoint through the
// real SDK client, then the acs client. It runs until the returned stop is called (or the test
// ends).
func startSession(t *testing.T, c *ecs.Client, instanceARN string, h acs.Handler, timing acs.Timing) (sess *acs.Session, stop func()) {
	t.Helper()
	sess = newSession(t, c, instanceARN, h, timing)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = sess.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return sess, stop
}

func newSession(t *testing.T, c *ecs.Client, instanceARN string, h acs.Handler, timing acs.Timing) *acs.Session {
	return &acs.Session{
		Discover: func(ctx context.Context) (string, error) {
			out, err := c.DiscoverPollEndpoint(ctx, &ecs.DiscoverPollEndpointInput{Cluster: aws.String("default"), ContainerInstance: aws.String(instanceARN)})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.Endpoint), nil
		},
		Params:      acs.Params{Cluster: "default", ContainerInstanceArn: instanceARN, AgentVersion: "1.0.0", AgentHash: "abc"},
		Credentials: credentials.NewStaticCredentialsProvider(fakeecs.DefaultAccessKeyID, fakeecs.DefaultSecretAccessKey, ""),
		Region:      "us-west-2",
		Handler:     h,
		Log:         testr.New(t),
		Timing:      timing,
	}
}

// eventually polls cond every 10 ms until it holds or 5 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func agentConnected(t *testing.T, c *ecs.Client, arn string) bool {
	t.Helper()
	out, err := c.DescribeContainerInstances(ctx(t), &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{arn}})
	if err != nil || len(out.ContainerInstances) != 1 {
		t.Fatalf("DescribeContainerInstances: %v %+v", err, out)
	}
	return out.ContainerInstances[0].AgentConnected
}

// startFakeWith is startFake with options.
func startFakeWith(t *testing.T, opts fakeecs.Options) *fakeecs.Server {
	t.Helper()
	srv, err := fakeecs.Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

func framesOf(srv *fakeecs.Server, dir, typ string) []fakeecs.ACSFrame {
	var out []fakeecs.ACSFrame
	for _, f := range srv.ACSFrames() {
		if f.Direction == dir && f.Type == typ {
			out = append(out, f)
		}
	}
	return out
}

func TestAgentConnectedIsTrueOnlyWhileAnACSSessionIsOpen(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)
	inst, _ := setup(t, c)
	if agentConnected(t, c, inst) {
		t.Fatal("agentConnected is true right after registration, before any ACS session")
	}
	_, stop := startSession(t, c, inst, &agentSide{}, acs.Timing{})
	eventually(t, "agentConnected while the session is open", func() bool { return agentConnected(t, c, inst) })
	stop()
	eventually(t, "agentConnected false after the agent disconnected", func() bool { return !agentConnected(t, c, inst) })

	// Deregistration drops the session, and the instance is disconnected
	// from that moment, not when the session's reader notices the drop.
	_, stop = startSession(t, c, inst, &agentSide{}, acs.Timing{})
	defer stop()
	eventually(t, "agentConnected while the second session is open", func() bool { return agentConnected(t, c, inst) })
	out, err := c.DeregisterContainerInstance(ctx(t), &ecs.DeregisterContainerInstanceInput{ContainerInstance: aws.String(inst), Force: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if out.ContainerInstance.AgentConnected || agentConnected(t, c, inst) {
		t.Error("agentConnected still true right after the deregistration dropped the session")
	}
}

func TestACSUpgradeIsRefusedAsECSRefusesIt(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)
	inst, _ := setup(t, c)
	good := acs.Params{Cluster: "default", ContainerInstanceArn: inst, AgentVersion: "1.0.0", AgentHash: "abc"}
	key := credentials.NewStaticCredentialsProvider(fakeecs.DefaultAccessKeyID, fakeecs.DefaultSecretAccessKey, "")
	dial := func(wsURL string, creds aws.CredentialsProvider) (*http.Response, error) {
		var h http.Header
		if creds != nil {
			var err error
			if h, err = acs.SignedHeaders(context.Background(), wsURL, creds, "us-west-2", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		ws, resp, err := websocket.DefaultDialer.Dial(wsURL, h)
		if err == nil {
			_ = ws.Close()
		}
		return resp, err
	}
	url := func(p acs.Params) string {
		u, err := acs.URL(srv.URL(), p)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	withParams := func(edit func(*acs.Params)) string { p := good; edit(&p); return url(p) }
	cases := []struct {
		name  string
		url   string
		creds aws.CredentialsProvider
		want  string
	}{
		{"unsigned", url(good), nil, acs.ExceptionAccessDenied},
		{"wrong secret", url(good), credentials.NewStaticCredentialsProvider(fakeecs.DefaultAccessKeyID, "wrong", ""), acs.ExceptionAccessDenied},
		{"unknown key", url(good), credentials.NewStaticCredentialsProvider("AKIDNOBODY", "x", ""), acs.ExceptionAccessDenied},
		{"no cluster", withParams(func(p *acs.Params) { p.Cluster = "" }), key, acs.ExceptionBadRequest},
		{"no agent version", withParams(func(p *acs.Params) { p.AgentVersion = "" }), key, acs.ExceptionBadRequest},
		{"bad seqNum", strings.Replace(url(good), "seqNum=1", "seqNum=x", 1), key, acs.ExceptionBadRequest},
		{"unknown cluster", withParams(func(p *acs.Params) { p.Cluster = "nope" }), key, acs.ExceptionInvalidCluster},
		{"unknown instance", withParams(func(p *acs.Params) { p.ContainerInstanceArn = inst + "0" }), key, acs.ExceptionInvalidInstance},
	}
	for _, tc := range cases {
		resp, err := dial(tc.url, tc.creds)
		if err == nil || resp == nil {
			t.Errorf("%s: upgrade accepted, want %s", tc.name, tc.want)
			continue
		}
		var body [512]byte
		n, _ := resp.Body.Read(body[:])
		if ex := acs.DecodeRefusal(body[:n]); ex == nil || ex.Type != tc.want {
			t.Errorf("%s: HTTP %d %s, want %s", tc.name, resp.StatusCode, body[:n], tc.want)
		}
	}
	if resp, err := dial(url(good), key); err != nil {
		t.Fatalf("good upgrade refused: %v (%v)", err, resp)
	}

	for _, ex := range []string{acs.ExceptionServer, acs.ExceptionBadRequest, acs.ExceptionAccessDenied} {
		srv.SetACSFault(fakeecs.ACSFault{Refuse: ex})
		resp, err := dial(url(good), key)
		if err == nil || resp == nil {
			t.Fatalf("fault %s: upgrade accepted", ex)
		}
	}
	srv.SetACSFault(fakeecs.ACSFault{})

	if _, err := c.DeregisterContainerInstance(ctx(t), &ecs.DeregisterContainerInstanceInput{ContainerInstance: aws.String(inst)}); err != nil {
		t.Fatal(err)
	}
	sess := newSession(t, c, inst, &agentSide{}, acs.Timing{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sess.Run(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, acs.ErrInactiveInstance) {
			t.Errorf("session of a deregistered instance ended with %v, want ErrInactiveInstance", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("session of a deregistered instance kept retrying")
	}
}

func TestRunTaskAndStopTaskArePushedAndUnackedPayloadsAreResent(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)
	inst, td := setup(t, c)
	a := &agentSide{}
	startSession(t, c, inst, a, acs.Timing{})
	eventually(t, "session open", func() bool { return len(srv.ACSSessions()) == 1 })

	run, err := c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: td.TaskDefinitionArn, Overrides: &types.TaskOverride{
		ContainerOverrides: []types.ContainerOverride{{Name: aws.String("app"), Command: []string{"sleep", "1"},
			Environment: []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("test")}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	eventually(t, "the RunTask payload", func() bool { p, _, _ := a.snapshot(); return len(p) == 1 })
	eventually(t, "the payload acked", func() bool { return srv.PendingPayloads(inst) == 0 })
	p, _, _ := a.snapshot()
	task := p[0].Tasks[0]
	app := task.Containers[0]
	switch {
	case p[0].ClusterArn == "" || p[0].ContainerInstanceArn != inst || p[0].SeqNum == nil:
		t.Errorf("payload header %+v", p[0])
	case task.Arn != arn || task.DesiredStatus != "RUNNING" || task.Family != "web" || task.Version != "1" || len(task.Containers) != 2:
		t.Errorf("task %+v", task)
	case app.Name != "app" || *app.Memory != 64 || app.Environment["MODE"] != "test" || app.Overrides == nil || !strings.Contains(*app.Overrides, `"sleep","1"`):
		t.Errorf("container app %+v (overrides %v)", app, app.Overrides)
	case app.DockerConfig == nil || *app.PortMappings[0].ContainerPort != 80 || app.ContainerArn == "":
		t.Errorf("container app %+v", app)
	}

	srv.SetACSFault(fakeecs.ACSFault{DropAcks: true})
	if _, err := c.StopTask(ctx(t), &ecs.StopTaskInput{Task: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the StopTask payload", func() bool { p, _, _ := a.snapshot(); return len(p) == 2 })
	p, _, _ = a.snapshot()
	if got := p[1].Tasks[0]; got.Arn != arn || got.DesiredStatus != "STOPPED" {
		t.Errorf("StopTask payload task %s %s, want %s STOPPED", got.Arn, got.DesiredStatus, arn)
	}
	eventually(t, "the dropped ack recorded", func() bool { return len(framesOf(srv, fakeecs.FrameIn, "AckRequest")) == 2 })
	if n := srv.PendingPayloads(inst); n != 1 {
		t.Fatalf("%d payloads pending after a dropped ack, want 1", n)
	}
	srv.SetACSFault(fakeecs.ACSFault{})
	srv.CloseACS(inst, websocket.CloseNormalClosure, "ConnectionExpired")
	eventually(t, "the unacked payload resent on the next session", func() bool { p, _, _ := a.snapshot(); return len(p) == 3 })
	eventually(t, "the resent payload acked", func() bool { return srv.PendingPayloads(inst) == 0 })
	p, _, _ = a.snapshot()
	if p[2].MessageID != p[1].MessageID {
		t.Errorf("resent payload %s, want the unacked %s", p[2].MessageID, p[1].MessageID)
	}
	if got := srv.ACSSessionsOpened(inst); got != 2 {
		t.Errorf("%d sessions opened, want 2", got)
	}
}

func TestHeartbeatsCredentialsAndManifestRoundTrips(t *testing.T) {
	srv := startFakeWith(t, fakeecs.Options{ACSHeartbeat: 50 * time.Millisecond})
	c := newClient(t, srv, 1)
	inst, _ := setup(t, c)
	td, err := c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{Family: aws.String("roles"),
		TaskRoleArn: aws.String("arn:aws:iam::123456789012:role/app"), ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/exec"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("a"), Image: aws.String("busybox"), Memory: aws.Int32(16)}}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: td.TaskDefinition.TaskDefinitionArn, Count: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	keep, gone := aws.ToString(run.Tasks[0].TaskArn), aws.ToString(run.Tasks[1].TaskArn)

	a := &agentSide{}
	_, stop := startSession(t, c, inst, a, acs.Timing{})
	eventually(t, "heartbeats acked", func() bool { return len(framesOf(srv, fakeecs.FrameIn, "HeartbeatAckRequest")) >= 2 })
	// Two payloads (queued before the session), each with a task and an execution role, acked
	// with one credentials ack per role; sendCredentials=true also pushes each role once more.
	eventually(t, "credential acks", func() bool { return len(framesOf(srv, fakeecs.FrameIn, "IAMRoleCredentialsAckRequest")) == 8 })
	_, creds, _ := a.snapshot()
	if len(creds) != 4 {
		t.Errorf("%d credentials messages on the first session, want 4 (sendCredentials=true)", len(creds))
	}
	renewed, ok := srv.RefreshCredentials(keep, acs.RoleTypeTaskApplication)
	if !ok {
		t.Fatal("RefreshCredentials found no task role")
	}
	eventually(t, "the renewal acked with its credentialsId", func() bool {
		for _, f := range framesOf(srv, fakeecs.FrameIn, "IAMRoleCredentialsAckRequest") {
			if strings.Contains(string(f.Message), renewed.CredentialsID) {
				return true
			}
		}
		return false
	})

	srv.StopTask(gone, "gone")
	a.mu.Lock()
	a.candidates = []acs.TaskIdentifier{{TaskArn: keep}, {TaskArn: gone}}
	a.mu.Unlock()
	id := srv.SendManifest(inst)
	eventually(t, "the stop verification answered", func() bool { _, _, s := a.snapshot(); return len(s) == 1 })
	if _, _, s := a.snapshot(); s[0] != gone {
		t.Errorf("ECS confirmed %v, want only the task it stopped (%s)", s, gone)
	}
	if acks := framesOf(srv, fakeecs.FrameIn, "AckRequest"); acks[len(acks)-1].MessageID != id {
		t.Errorf("last ack %+v, want the manifest %s", acks[len(acks)-1], id)
	}

	// A new process asks for credentials again; a reconnect of the same one does not.
	before := len(framesOf(srv, fakeecs.FrameOut, "IAMRoleCredentialsMessage"))
	srv.CloseACS(inst, websocket.CloseNormalClosure, "")
	eventually(t, "a second session", func() bool { return srv.ACSSessionsOpened(inst) == 2 })
	stop()
	if got := len(framesOf(srv, fakeecs.FrameOut, "IAMRoleCredentialsMessage")); got != before {
		t.Errorf("a reconnect got %d more credentials messages, want none", got-before)
	}
	eventually(t, "no session once the agent stopped", func() bool { return len(srv.ACSSessions()) == 0 })
	startSession(t, c, inst, &agentSide{}, acs.Timing{})
	eventually(t, "a new process's session gets every credentials", func() bool {
		return len(framesOf(srv, fakeecs.FrameOut, "IAMRoleCredentialsMessage")) == before+2
	})
}

func TestSilentFakeIsDroppedByTheAgentAndReconnected(t *testing.T) {
	srv := startFakeWith(t, fakeecs.Options{ACSHeartbeat: 20 * time.Millisecond})
	c := newClient(t, srv, 1)
	inst, _ := setup(t, c)
	startSession(t, c, inst, &agentSide{}, acs.Timing{Silence: 300 * time.Millisecond, SilenceJitter: time.Millisecond, BackoffMin: time.Millisecond})
	eventually(t, "session open", func() bool { return len(srv.ACSSessions()) == 1 })
	time.Sleep(500 * time.Millisecond) // heartbeats keep it open past the silence timeout
	if n := srv.ACSSessionsOpened(inst); n != 1 {
		t.Fatalf("%d sessions opened while heartbeating, want 1", n)
	}
	srv.SetACSFault(fakeecs.ACSFault{Silent: true})
	eventually(t, "a reconnect after silence", func() bool { return srv.ACSSessionsOpened(inst) >= 2 })
}

func TestNoACSModeNamesAnEndpointThatRefuses(t *testing.T) {
	srv := startFakeWith(t, fakeecs.Options{NoACS: true})
	c := newClient(t, srv, 1)
	inst, td := setup(t, c)
	sess, _ := startSession(t, c, inst, &agentSide{}, acs.Timing{BackoffMin: 10 * time.Millisecond})
	eventually(t, "a refused connect", func() bool { return strings.Contains(sess.Status().LastError, "404") })
	if _, err := c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: td.TaskDefinitionArn}); err != nil {
		t.Fatal(err)
	}
	if agentConnected(t, c, inst) || len(srv.ACSFrames()) != 0 {
		t.Errorf("without ACS: connected %v, frames %+v", agentConnected(t, c, inst), srv.ACSFrames())
	}
}
