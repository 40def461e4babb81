package tcs

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/go-logr/logr/testr"
	"github.com/gorilla/websocket"

	"github.com/ecs-agent/ecs-agent/internal/ecsws"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

const (
	testRegion = "us-west-2"
	testKey    = "AKIDTCSTEST"
	testSecret = "tcs-test-secret"
)

func testKeys(id string) (string, bool) { return testSecret, id == testKey }

// server is a TCS endpoint that checks what a real one checks (the
// upgrade's and each frame's signature) and records what it gets.
type server struct {
	t         *testing.T
	srv       *httptest.Server
	heartbeat bool // send a heartbeat after each frame received

	// wmu serialises writes: gorilla allows one writer at a time, and
	// the handler's heartbeats and the test's sends may meet.
	wmu      sync.Mutex
	mu       sync.Mutex
	sessions int
	frames   []any
	bad      []string
	conns    []*websocket.Conn
}

func newServer(t *testing.T, heartbeat bool) *server {
	s := &server{t: t, heartbeat: heartbeat}
	up := websocket.Upgrader{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ecsws.Verify(r, testKeys, testRegion); err != nil {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write(ecsws.EncodeRefusal(&Exception{Type: ExceptionAccessDenied, Message: err.Error()}))
			return
		}
		q := r.URL.Query()
		if r.URL.Path != "/ws" || q.Get(ParamCluster) != "default" || q.Get(ParamContainerInstance) != "arn:ci" || q.Get(ParamAgentVersion) == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(ecsws.EncodeRefusal(&Exception{Type: ExceptionBadRequest, Message: "bad URL " + r.URL.String()}))
			return
		}
		sessionURL := "ws://" + r.Host + r.URL.RequestURI()
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.sessions++
		s.conns = append(s.conns, ws)
		s.mu.Unlock()
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			frame, err := ecsws.VerifyFrame(data, sessionURL, testKeys, testRegion)
			var msg any
			if err == nil {
				msg, err = Decode(frame)
			}
			s.mu.Lock()
			if err != nil {
				s.bad = append(s.bad, err.Error())
			} else {
				s.frames = append(s.frames, msg)
			}
			s.mu.Unlock()
			if s.heartbeat {
				b, _ := Encode(&HeartbeatMessage{Healthy: true})
				s.wmu.Lock()
				_ = ws.WriteMessage(websocket.TextMessage, b)
				s.wmu.Unlock()
			}
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) count(match func(any) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.frames {
		if match(f) {
			n++
		}
	}
	return n
}

func (s *server) send(t *testing.T, msg any) {
	b, _ := Encode(msg)
	s.mu.Lock()
	ws := s.conns[len(s.conns)-1]
	s.mu.Unlock()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := ws.WriteMessage(websocket.TextMessage, b); err != nil {
		t.Fatal(err)
	}
}

func (s *server) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// source hands out one task's metrics per cycle and one health entry.
type source struct {
	mu     sync.Mutex
	cycles int
	status bool
}

func (f *source) Cycle(_ context.Context, metrics bool) Cycle {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cycles++
	c := Cycle{
		Health:   []TaskHealth{{TaskArn: "arn:t", Containers: []ContainerHealth{{ContainerName: "app", HealthStatus: HealthUnhealthy}}}},
		Statuses: []InstanceStatus{{Type: InstanceStatusAgent, Status: InstanceOK}}, StatusDue: f.status,
	}
	if metrics {
		c.Metrics = []TaskMetric{task(f.cycles, 1, 3)}
	}
	return c
}

func runSession(t *testing.T, s *server, key string, tm Timing, mutate func(*Session)) *Session {
	sess := &Session{
		Discover:    func(context.Context) (string, error) { return s.srv.URL, nil },
		Params:      Params{Cluster: "default", ContainerInstance: "arn:ci", AgentVersion: "1.0.0"},
		Credentials: credentials.NewStaticCredentialsProvider(key, testSecret, "tok"),
		Region:      testRegion, Source: &source{status: true}, Log: testr.New(t), Timing: tm,
	}
	if mutate != nil {
		mutate(sess)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sess.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return sess
}

func isMetrics(m any) bool { _, ok := m.(*PublishMetricsRequest); return ok }
func isHealth(m any) bool  { _, ok := m.(*PublishHealthRequest); return ok }
func isStatus(m any) bool  { _, ok := m.(*PublishInstanceStatusRequest); return ok }

func TestSessionPublishesSignedCyclesAndStaysUpOnHeartbeats(t *testing.T) {
	s := newServer(t, true)
	sess := runSession(t, s, testKey, Timing{Publish: 100 * time.Millisecond, Silence: 300 * time.Millisecond, SilenceJitter: time.Millisecond}, nil)
	testwait.For(t, "five metrics cycles", 10*time.Second, 20*time.Millisecond, func() (bool, string) {
		n := s.count(isMetrics)
		return n >= 5, fmt.Sprintf("%d metrics requests", n)
	})
	if n := s.count(isHealth); n < 4 {
		t.Errorf("%d health requests; want one a cycle", n)
	}
	if n := s.count(isStatus); n < 4 {
		t.Errorf("%d instance status requests; want one a cycle when due", n)
	}
	s.mu.Lock()
	bad, sessions := s.bad, s.sessions
	s.mu.Unlock()
	if len(bad) > 0 {
		t.Errorf("frames the server refused: %v", bad)
	}
	if sessions != 1 || !sess.Status().Connected {
		t.Errorf("%d sessions, connected %v; want one, kept open by the heartbeats", sessions, sess.Status().Connected)
	}
}

func TestSessionWithMetricsDisabledSendsHealthOnly(t *testing.T) {
	s := newServer(t, true)
	runSession(t, s, testKey, Timing{Publish: 50 * time.Millisecond}, func(sess *Session) { sess.DisableMetrics = true })
	testwait.For(t, "three health cycles", 10*time.Second, 20*time.Millisecond, func() (bool, string) {
		n := s.count(isHealth)
		return n >= 3, fmt.Sprintf("%d health requests", n)
	})
	if n := s.count(isMetrics); n != 0 {
		t.Errorf("%d metrics requests with ECS_DISABLE_METRICS; want none", n)
	}
}

func TestSilentServerIsLeftAndStopMessageReconnectsAtOnce(t *testing.T) {
	s := newServer(t, false) // never a heartbeat nor an ack
	runSession(t, s, testKey, Timing{Publish: time.Hour, Silence: 200 * time.Millisecond, SilenceJitter: time.Millisecond,
		BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond}, nil)
	testwait.For(t, "a second session after the first went silent", 10*time.Second, 10*time.Millisecond, func() (bool, string) {
		return s.sessionCount() >= 2, fmt.Sprintf("%d sessions", s.sessionCount())
	})

	s2 := newServer(t, true)
	runSession(t, s2, testKey, Timing{Publish: time.Hour, BackoffMin: time.Hour, BackoffMax: time.Hour}, nil)
	testwait.For(t, "a session", 10*time.Second, 10*time.Millisecond, func() (bool, string) { return s2.sessionCount() == 1, "" })
	s2.send(t, &StopTelemetrySessionMessage{Message: "bye"})
	// A backoff of an hour: only an immediate reconnect opens the second.
	testwait.For(t, "an immediate second session", 10*time.Second, 10*time.Millisecond, func() (bool, string) {
		return s2.sessionCount() == 2, fmt.Sprintf("%d sessions", s2.sessionCount())
	})
}

func TestRefusedUpgradeNamesTheException(t *testing.T) {
	s := newServer(t, true)
	sess := runSession(t, s, "AKIDUNKNOWN", Timing{BackoffMin: time.Hour, BackoffMax: time.Hour}, nil)
	testwait.For(t, "the refusal in the status", 10*time.Second, 10*time.Millisecond, func() (bool, string) {
		e := sess.Status().LastError
		return strings.Contains(e, ExceptionAccessDenied) && strings.Contains(e, "unknown access key"), e
	})
	if s.sessionCount() != 0 {
		t.Errorf("an unsigned-for-this-server upgrade opened a session")
	}
}
