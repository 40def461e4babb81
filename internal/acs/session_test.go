package acs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/go-logr/logr/testr"
	"github.com/gorilla/websocket"

	"github.com/ecs-agent/ecs-agent/internal/ecsws"
)

const (
	testRegion = "us-west-2"
	testKey    = "AKIDACSTEST"
	testSecret = "acs-test-secret"
	waitLimit  = 5 * time.Second
)

var testCreds = aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, SessionToken: "session-token"}

// testKeys is the server's view of testCreds.
func testKeys(id string) (string, bool) { return testSecret, id == testKey }

// server is an ACS endpoint in the test: it checks each upgrade's signature,
// hands every session to the test, and records the frames it receives.
type server struct {
	t        *testing.T
	srv      *httptest.Server
	sessions chan *peer
	// refuse, when set, answers the upgrade instead: status and body.
	mu     sync.Mutex
	refuse func() (int, []byte)
}

// peer is the server's side of one session.
type peer struct {
	ws     *websocket.Conn
	query  url.Values
	frames chan any
	closed chan error
}

func newServer(t *testing.T) *server {
	s := &server{t: t, sessions: make(chan *peer, 16)}
	up := websocket.Upgrader{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ecsws.Verify(r, testKeys, testRegion); err != nil {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write(EncodeRefusal(&Exception{Type: ExceptionAccessDenied, Message: err.Error()}))
			return
		}
		s.mu.Lock()
		refuse := s.refuse
		s.mu.Unlock()
		if refuse != nil {
			status, body := refuse()
			w.WriteHeader(status)
			_, _ = w.Write(body)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		p := &peer{ws: ws, query: r.URL.Query(), frames: make(chan any, 64), closed: make(chan error, 1)}
		go func() {
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					p.closed <- err
					return
				}
				m, err := Decode(data)
				if err != nil {
					t.Errorf("agent sent an undecodable frame %s: %v", data, err)
					continue
				}
				p.frames <- m
			}
		}()
		s.sessions <- p
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) setRefuse(f func() (int, []byte)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = f
}

func (s *server) next(t *testing.T) *peer {
	t.Helper()
	select {
	case p := <-s.sessions:
		return p
	case <-time.After(waitLimit):
		t.Fatal("no ACS session opened")
		return nil
	}
}

func (p *peer) send(t *testing.T, msg any) {
	t.Helper()
	data, err := Encode(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ws.WriteMessage(websocket.TextMessage, data); err != nil {
		t.Fatalf("server send %T: %v", msg, err)
	}
}

// expect returns the next frame the agent sent, failing unless it is a T.
func expect[T any](t *testing.T, p *peer) *T {
	t.Helper()
	select {
	case m := <-p.frames:
		v, ok := m.(*T)
		if !ok {
			t.Fatalf("agent sent %s %+v, want a %T", TypeName(m), m, v)
		}
		return v
	case <-time.After(waitLimit):
		var v *T
		t.Fatalf("agent sent no %T", v)
		return nil
	}
}

// quiet fails if the agent sends anything within d.
func (p *peer) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-p.frames:
		t.Fatalf("agent sent %s %+v, want nothing", TypeName(m), m)
	case <-time.After(d):
	}
}

// handler records what the session hands it and answers as told.
type handler struct {
	mu         sync.Mutex
	payloads   []string
	creds      []string
	stopped    []string
	payloadErr error
	candidates []TaskIdentifier
	accept     bool
}

func (h *handler) Payload(_ context.Context, m *PayloadMessage) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.payloads = append(h.payloads, m.MessageID)
	return h.payloadErr
}

func (h *handler) Credentials(_ context.Context, m *IAMRoleCredentialsMessage) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.creds = append(h.creds, m.RoleCredentials.CredentialsID)
	return nil
}

func (h *handler) Manifest(context.Context, *TaskManifestMessage) ([]TaskIdentifier, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.candidates, h.accept, nil
}

func (h *handler) StopVerified(_ context.Context, m *TaskStopVerificationAck) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range m.StopTasks {
		h.stopped = append(h.stopped, t.TaskArn)
	}
	return nil
}

func (h *handler) ServerMessage(context.Context, any) {}

func (h *handler) stoppedTasks() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.stopped)
}

// run starts a session against s; it ends with the test. The returned
// channel yields Run's result.
func run(t *testing.T, s *server, h Handler, timing Timing) (*Session, <-chan error) {
	sess := &Session{
		Discover:    func(context.Context) (string, error) { return s.srv.URL, nil },
		Params:      Params{Cluster: "default", ContainerInstanceArn: "arn:ci", AgentVersion: "0.0.1", AgentHash: "deadbee", DockerVersion: "28.0.0"},
		Credentials: credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, testCreds.SessionToken),
		Region:      testRegion,
		Handler:     h,
		Log:         testr.New(t),
		Timing:      timing,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() { done <- sess.Run(ctx); close(finished) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(waitLimit):
			t.Error("Session.Run did not return after its context ended")
		}
	})
	return sess, done
}

func TestSessionAcksHeartbeatsCredentialsAndOnlyPersistedPayloads(t *testing.T) {
	s := newServer(t)
	h := &handler{}
	sess, _ := run(t, s, h, Timing{})
	p := s.next(t)

	p.send(t, &HeartbeatMessage{MessageID: "hb1"})
	if ack := expect[HeartbeatAckRequest](t, p); ack.MessageID != "hb1" {
		t.Errorf("heartbeat ack %+v, want messageId hb1", ack)
	}

	seq := int64(1)
	task := Task{Arn: "arn:t1", DesiredStatus: "RUNNING",
		RoleCredentials:          &IAMRoleCredentials{CredentialsID: "role-1", Expiration: "e1"},
		ExecutionRoleCredentials: &IAMRoleCredentials{CredentialsID: "exec-1", Expiration: "e2"}}
	p.send(t, &PayloadMessage{MessageID: "p1", ClusterArn: "arn:c", ContainerInstanceArn: "arn:ci", SeqNum: &seq, Tasks: []Task{task}})
	if ack := expect[AckRequest](t, p); *ack != (AckRequest{Cluster: "arn:c", ContainerInstance: "arn:ci", MessageID: "p1"}) {
		t.Errorf("payload ack %+v, want the message's ARNs and id", ack)
	}
	for _, want := range []IAMRoleCredentialsAckRequest{{"p1", "role-1", "e1"}, {"p1", "exec-1", "e2"}} {
		if ack := expect[IAMRoleCredentialsAckRequest](t, p); *ack != want {
			t.Errorf("payload credentials ack %+v, want %+v", ack, want)
		}
	}

	// Not persisted: no ack at all, so that ACS sends it again.
	h.mu.Lock()
	h.payloadErr = errors.New("disk full")
	h.mu.Unlock()
	p.send(t, &PayloadMessage{MessageID: "p2", ClusterArn: "arn:c", ContainerInstanceArn: "arn:ci", Tasks: []Task{task}})
	// Missing ARNs: dropped before the handler sees it.
	p.send(t, &PayloadMessage{MessageID: "p3", Tasks: []Task{task}})
	p.send(t, &IAMRoleCredentialsMessage{MessageID: "c1", TaskArn: "arn:t1", RoleType: RoleTypeTaskApplication,
		RoleCredentials: &IAMRoleCredentials{CredentialsID: "role-2", Expiration: "e3"}})
	if ack := expect[IAMRoleCredentialsAckRequest](t, p); *ack != (IAMRoleCredentialsAckRequest{"c1", "role-2", "e3"}) {
		t.Errorf("credentials ack %+v", ack)
	}
	p.send(t, &IAMRoleCredentialsMessage{MessageID: "c2", TaskArn: "arn:t1", RoleType: "Bogus",
		RoleCredentials: &IAMRoleCredentials{CredentialsID: "role-3"}})
	p.quiet(t, 200*time.Millisecond)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !slices.Equal(h.payloads, []string{"p1", "p2"}) || !slices.Equal(h.creds, []string{"role-2"}) {
		t.Errorf("handler saw payloads %v and credentials %v, want [p1 p2] and [role-2]", h.payloads, h.creds)
	}
	st := sess.Status()
	if !st.Connected || st.Endpoint != s.srv.URL || st.LastMessageType != "IAMRoleCredentialsMessage" || st.Sessions != 1 {
		t.Errorf("status %+v", st)
	}
}

func TestSendCredentialsOnlyOnTheFirstSessionAndNormalCloseReconnectsAtOnce(t *testing.T) {
	s := newServer(t)
	// Backoff would show as a wait of at least this long.
	_, _ = run(t, s, &handler{}, Timing{BackoffMin: 2 * time.Second})
	p := s.next(t)
	q := p.query
	want := map[string]string{"agentHash": "deadbee", "agentVersion": "0.0.1", "clusterArn": "default", "containerInstanceArn": "arn:ci",
		"dockerVersion": "DockerVersion: 28.0.0", "protocolVersion": "2", "sendCredentials": "true", "seqNum": "1"}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("first upgrade %s=%q, want %q", k, q.Get(k), v)
		}
	}
	if len(q) != len(want) {
		t.Errorf("first upgrade query %v has parameters beyond %v", q, want)
	}
	for i := range 2 {
		closed := time.Now()
		_ = p.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
		p = s.next(t)
		if d := time.Since(closed); d > time.Second {
			t.Errorf("reconnect %d after a normal close took %v, want at once", i+1, d)
		}
		if got := p.query.Get(ParamSendCredentials); got != "false" {
			t.Errorf("reconnect %d: sendCredentials=%q, want false", i+1, got)
		}
	}
}

func TestSilentServerIsDroppedAndReconnected(t *testing.T) {
	s := newServer(t)
	timing := Timing{Silence: 300 * time.Millisecond, SilenceJitter: time.Millisecond, BackoffMin: 10 * time.Millisecond}
	_, _ = run(t, s, &handler{}, timing)
	p := s.next(t)
	// A heartbeat keeps it alive past one silence timeout…
	time.Sleep(200 * time.Millisecond) //nolint:forbidigo // the gap between heartbeats is what is tested
	p.send(t, &HeartbeatMessage{MessageID: "hb"})
	expect[HeartbeatAckRequest](t, p)
	start := time.Now()
	// …an unknown frame does not.
	_ = p.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"SomethingNew","message":{}}`))
	select {
	case <-p.closed:
	case <-time.After(waitLimit):
		t.Fatal("the agent kept a silent session open")
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("dropped after %v of silence, want the silence timeout (300 ms)", d)
	}
	s.next(t)
}

func TestSessionAtMaximumAgeClosesNormallyAndReconnects(t *testing.T) {
	s := newServer(t)
	_, _ = run(t, s, &handler{}, Timing{MaxAge: 300 * time.Millisecond, MaxAgeJitter: time.Millisecond, BackoffMin: 2 * time.Second})
	p := s.next(t)
	select {
	case err := <-p.closed:
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure || ce.Text != closeExpired {
			t.Errorf("session ended with %v, want close 1000 %q", err, closeExpired)
		}
	case <-time.After(waitLimit):
		t.Fatal("session outlived its maximum age")
	}
	start := time.Now()
	s.next(t)
	if d := time.Since(start); d > time.Second {
		t.Errorf("reconnect after the age close took %v, want at once", d)
	}
}

func TestRefusedUpgradesBackOffAndInactiveInstanceEndsRun(t *testing.T) {
	s := newServer(t)
	var mu sync.Mutex
	var times []time.Time
	s.setRefuse(func() (int, []byte) {
		mu.Lock()
		defer mu.Unlock()
		times = append(times, time.Now())
		if len(times) < 4 {
			return http.StatusBadRequest, EncodeRefusal(&Exception{Type: ExceptionInvalidCluster, Message: "no such cluster"})
		}
		return http.StatusBadRequest, EncodeRefusal(&Exception{Type: ExceptionInactiveInstance, Message: "deregistered"})
	})
	sess, done := run(t, s, &handler{}, Timing{BackoffMin: 50 * time.Millisecond})
	select {
	case err := <-done:
		if !errors.Is(err, ErrInactiveInstance) {
			t.Fatalf("Run returned %v, want ErrInactiveInstance", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Run did not end on InactiveInstanceException")
	}
	mu.Lock()
	defer mu.Unlock()
	// Waits: 50 ms, 75 ms, 112 ms (+ up to 20 % each).
	for i, min := range []time.Duration{50, 75, 112} {
		if d := times[i+1].Sub(times[i]); d < min*time.Millisecond {
			t.Errorf("wait %d was %v, want at least %v ms", i+1, d, min)
		}
	}
	if st := sess.Status(); st.Connected || st.Sessions != 0 || st.LastError == "" {
		t.Errorf("status %+v, want never connected with the last error", st)
	}
}

func TestUnsignedOrWronglySignedUpgradeIsRefused(t *testing.T) {
	s := newServer(t)
	wsURL, err := URL(s.srv.URL, Params{Cluster: "default", ContainerInstanceArn: "arn:ci"})
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := SignedHeaders(context.Background(), wsURL, credentials.NewStaticCredentialsProvider(testKey, "not-the-secret", ""), testRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]http.Header{"unsigned": nil, "wrong secret": wrong} {
		_, resp, err := websocket.DefaultDialer.Dial(wsURL, h)
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s upgrade: err %v, response %v; want 403", name, err, resp)
			continue
		}
		if ex := refusal(s.srv.URL, resp, err); !errors.As(ex, new(*Exception)) {
			t.Errorf("%s upgrade: refusal %v does not name the exception", name, ex)
		}
	}
}

func TestStopVerificationIsHonouredOnlyForTheLastAcceptedManifest(t *testing.T) {
	s := newServer(t)
	cand := []TaskIdentifier{{TaskArn: "arn:t9", TaskClusterArn: "arn:c", DesiredStatus: "STOPPED"}}
	h := &handler{accept: true, candidates: cand}
	_, _ = run(t, s, h, Timing{})
	p := s.next(t)
	tl := int64(3)
	p.send(t, &TaskManifestMessage{MessageID: "m1", ClusterArn: "arn:c", ContainerInstanceArn: "arn:ci", Timeline: &tl})
	if ack := expect[AckRequest](t, p); ack.MessageID != "m1" || ack.Cluster != "arn:c" {
		t.Errorf("manifest ack %+v", ack)
	}
	if v := expect[TaskStopVerificationMessage](t, p); v.MessageID != "m1" || !slices.Equal(v.StopCandidates, cand) {
		t.Errorf("verification %+v, want m1 with the candidates", v)
	}
	p.send(t, &TaskStopVerificationAck{MessageID: "m0", StopTasks: []TaskIdentifier{{TaskArn: "arn:other"}}})
	p.send(t, &TaskStopVerificationAck{MessageID: "m1", StopTasks: cand})
	h.mu.Lock()
	h.accept = false
	h.mu.Unlock()
	p.send(t, &TaskManifestMessage{MessageID: "m2", Timeline: &tl})
	p.quiet(t, 200*time.Millisecond)
	if got := h.stoppedTasks(); !slices.Equal(got, []string{"arn:t9"}) {
		t.Errorf("stopped %v, want only arn:t9 of the accepted manifest", got)
	}
}

func ExampleURL() {
	u, _ := URL("https://ecs-a-1.eu-west-1.amazonaws.com", Params{Cluster: "prod", ContainerInstanceArn: "ci", AgentVersion: "1.0.0", AgentHash: "h"})
	fmt.Println(u)
	// Output: wss://ecs-a-1.eu-west-1.amazonaws.com/ws?agentHash=h&agentVersion=1.0.0&clusterArn=prod&containerInstanceArn=ci&protocolVersion=2&sendCredentials=false&seqNum=1
}
