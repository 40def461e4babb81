package tcs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/go-logr/logr"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/ecs-agent/ecs-agent/internal/ecsws"
)

// Session timers of TCS's own; the others are ecsws's, which ACS shares.
const (
	// PublishInterval is the metrics and health cycle; the first cycle
	// runs as soon as a session opens.
	PublishInterval = 20 * time.Second
	// BackoffMin, doubled per failure up to BackoffMax, plus up to
	// BackoffJitter of itself, is the wait before connecting again.
	BackoffMin    = time.Second
	BackoffMax    = 60 * time.Second
	BackoffJitter = 0.2
)

// Timing holds a session's timers; a zero field means its constant. The
// silence timeout counts only heartbeats and acks as signs of life.
type Timing struct {
	Publish, Handshake, Silence, SilenceJitter, Write, MaxAge, MaxAgeJitter, BackoffMin, BackoffMax time.Duration
}

func (t Timing) withDefaults() Timing {
	for _, f := range []struct {
		v *time.Duration
		d time.Duration
	}{
		{&t.Publish, PublishInterval}, {&t.Handshake, ecsws.HandshakeTimeout}, {&t.Silence, ecsws.SilenceTimeout},
		{&t.SilenceJitter, ecsws.SilenceJitter}, {&t.Write, ecsws.WriteTimeout}, {&t.MaxAge, ecsws.MaxSessionAge},
		{&t.MaxAgeJitter, ecsws.MaxSessionAgeJitter}, {&t.BackoffMin, BackoffMin}, {&t.BackoffMax, BackoffMax},
	} {
		if *f.v == 0 {
			*f.v = f.d
		}
	}
	return t
}

// Source is what a session publishes: the session reads one Cycle every
// publish interval, from one goroutine.
type Source interface {
	// Cycle reads what goes this cycle; the metrics only when metrics is
	// true (with ECS_DISABLE_METRICS nothing is sampled).
	Cycle(ctx context.Context, metrics bool) Cycle
}

// Cycle is one publish cycle's content.
type Cycle struct {
	// Metrics is each running task's container use since the last cycle;
	// tasks with no sample in that time are left out.
	Metrics []TaskMetric
	// Health is the health of each running task's containers that have a
	// health check; tasks with none are left out.
	Health []TaskHealth
	// Statuses are the instance's health checks; StatusDue says whether
	// to send them this cycle (ECS takes them at most once per ACS
	// heartbeat).
	Statuses  []InstanceStatus
	StatusDue bool
}

// Status is the session as last seen, for logs and the CLI.
type Status struct {
	Connected bool
	Endpoint  string
	// Sessions counts upgrades that succeeded.
	Sessions int64
	// LastPublishAt is the end of the last cycle that sent every request.
	LastPublishAt time.Time
	LastError     string
}

// Session keeps one TCS session open for a container instance and
// publishes a cycle every PublishInterval while it is.
type Session struct {
	// Discover returns the telemetry endpoint (DiscoverPollEndpoint's
	// telemetryEndpoint); it is called before every connect.
	Discover    func(ctx context.Context) (string, error)
	Params      Params
	Credentials aws.CredentialsProvider
	Region      string
	Source      Source
	// DisableMetrics (ECS_DISABLE_METRICS) sends no metrics; health and
	// instance status still go.
	DisableMetrics bool
	Log            logr.Logger
	Timing         Timing
	TLSConfig      *tls.Config

	mu     sync.Mutex
	status Status
}

// Status returns the session's status.
func (s *Session) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Run keeps a session open until ctx ends; it never fails for good, since
// telemetry is not worth stopping the agent for.
func (s *Session) Run(ctx context.Context) error {
	t := s.Timing.withDefaults()
	b := &ecsws.Backoff{Min: t.BackoffMin, Max: t.BackoffMax, Multiplier: 2, Jitter: BackoffJitter}
	quiet := false // log a run of failures once at info
	for ctx.Err() == nil {
		wait := time.Duration(0)
		wsURL, ws, err := s.connect(ctx, t)
		if err == nil {
			quiet = false
			started := time.Now()
			end := s.serve(ctx, wsURL, ws, t)
			if ctx.Err() != nil {
				return nil
			}
			if end.immediate || time.Since(started) > t.Silence {
				b.Reset()
			}
			if !end.immediate {
				wait = b.Wait()
			}
			s.Log.V(1).Info("TCS session ended; reconnecting", "reason", end.reason, "retryIn", wait.Round(time.Millisecond).String())
		} else if ctx.Err() == nil {
			s.setError(err)
			wait = b.Wait()
			log := s.Log.V(1)
			if !quiet {
				log = s.Log
			}
			log.Info("cannot open the TCS session; telemetry waits", "error", err.Error(), "retryIn", wait.Round(time.Millisecond).String())
			quiet = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	return nil
}

// connect discovers the endpoint and upgrades a signed GET.
func (s *Session) connect(ctx context.Context, t Timing) (string, *websocket.Conn, error) {
	endpoint, err := s.Discover(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("discover the TCS endpoint: %w", err)
	}
	if endpoint == "" {
		return "", nil, errors.New("DiscoverPollEndpoint named no telemetry endpoint")
	}
	wsURL, err := URL(endpoint, s.Params)
	if err != nil {
		return "", nil, err
	}
	ws, resp, err := ecsws.Dial(ctx, wsURL, s.Credentials, s.Region, s.TLSConfig, t.Handshake)
	if err != nil {
		return "", nil, refusal(endpoint, resp, err)
	}
	s.mu.Lock()
	s.status.Connected, s.status.Endpoint, s.status.LastError = true, endpoint, ""
	s.status.Sessions++
	n := s.status.Sessions
	s.mu.Unlock()
	metricConnected.Set(1)
	metricSessions.Inc()
	if n == 1 {
		s.Log.Info("TCS session open", "endpoint", endpoint)
	}
	return wsURL, ws, nil
}

// refusal names the exception TCS refused the upgrade with, if any.
func refusal(endpoint string, resp *http.Response, err error) error {
	if resp == nil {
		return fmt.Errorf("connect to TCS at %s: %w", endpoint, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	if ex := DecodeRefusal(body); ex != nil {
		return fmt.Errorf("TCS at %s refused the session (HTTP %d): %w", endpoint, resp.StatusCode, ex)
	}
	return fmt.Errorf("TCS at %s refused the session (HTTP %d): %w", endpoint, resp.StatusCode, err)
}

func (s *Session) setError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.LastError = err.Error()
}

// ending says why a session ended and whether to connect again at once.
type ending struct {
	reason    string
	immediate bool
}

// conn is one open session.
type conn struct {
	s     *Session
	url   string
	ws    *websocket.Conn
	t     Timing
	write sync.Mutex
}

// serve reads frames and publishes cycles until the session ends.
func (s *Session) serve(ctx context.Context, wsURL string, ws *websocket.Conn, t Timing) ending {
	c := &conn{s: s, url: wsURL, ws: ws, t: t}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		_ = ws.Close()
		wg.Wait()
		s.mu.Lock()
		s.status.Connected = false
		s.mu.Unlock()
		metricConnected.Set(0)
	}()
	wg.Add(1)
	go func() { defer wg.Done(); c.publishEvery(ctx) }()

	// The reader blocks in ReadMessage: closing the socket ends it when
	// ctx ends; the age timer closes the session politely first.
	aged := make(chan struct{})
	age := time.AfterFunc(ecsws.Jittered(t.MaxAge, t.MaxAgeJitter), func() {
		close(aged)
		c.close("ConnectionExpired: Reconnect to continue")
	})
	defer age.Stop()
	wg.Add(1)
	go func() { defer wg.Done(); <-ctx.Done(); _ = ws.Close() }()

	deadline := time.Now().Add(ecsws.Jittered(t.Silence, t.SilenceJitter))
	for {
		_ = ws.SetReadDeadline(deadline)
		kind, data, err := ws.ReadMessage()
		if err != nil {
			select {
			case <-aged:
				return ending{reason: "session reached its maximum age", immediate: true}
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.close("no heartbeat or ack within the silence timeout")
				return ending{reason: "no heartbeat or ack from TCS within the silence timeout"}
			}
			var ce *websocket.CloseError
			if errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway) {
				return ending{reason: ce.Error(), immediate: true}
			}
			return ending{reason: err.Error()}
		}
		if kind != websocket.TextMessage {
			continue
		}
		msg, err := Decode(data)
		if err != nil {
			s.Log.V(1).Info("TCS frame dropped", "error", err.Error())
			continue
		}
		metricMessages.WithLabelValues("received", ecsws.TypeName(msg)).Inc()
		switch m := msg.(type) {
		case *HeartbeatMessage, *AckPublishMetric, *AckPublishHealth, *AckPublishInstanceStatus:
			deadline = time.Now().Add(ecsws.Jittered(t.Silence, t.SilenceJitter))
		case *StopTelemetrySessionMessage:
			c.close("StopTelemetrySessionMessage")
			return ending{reason: "TCS asked to stop the session: " + m.Message, immediate: true}
		case *Exception:
			s.Log.Info("TCS sent an exception", "type", m.Type, "message", m.Message)
		}
	}
}

// close sends close 1000; the reader sees the socket end.
func (c *conn) close(text string) {
	c.write.Lock()
	defer c.write.Unlock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, text), time.Now().Add(time.Second))
	_ = c.ws.Close()
}

// publishEvery publishes a cycle now and every Publish interval.
func (c *conn) publishEvery(ctx context.Context) {
	tick := time.NewTicker(c.t.Publish)
	defer tick.Stop()
	for {
		if err := c.publish(ctx); err != nil {
			if ctx.Err() == nil {
				c.s.Log.V(1).Info("TCS publish failed; the session ends", "error", err.Error())
				_ = c.ws.Close()
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// publish sends one cycle: metrics (unless disabled), health, and the
// instance status when due.
func (c *conn) publish(ctx context.Context) error {
	s := c.s
	now := time.Now()
	head := Head{Cluster: s.Params.Cluster, ContainerInstance: s.Params.ContainerInstance, Time: now}
	cycle := s.Source.Cycle(ctx, !s.DisableMetrics)
	if !s.DisableMetrics {
		head.MessageID = uuid.NewString()
		reqs, tooBig := MetricsRequests(head, cycle.Metrics)
		for _, t := range tooBig {
			metricDropped.Inc()
			s.Log.Info("task metrics left out: alone they exceed TCS's frame limit", "task", t.TaskArn, "containers", len(t.ContainerMetrics))
		}
		for _, r := range reqs {
			if err := c.send(ctx, r); err != nil {
				return err
			}
		}
	}
	head.MessageID = uuid.NewString()
	for _, r := range HealthRequests(head, cycle.Health) {
		if err := c.send(ctx, r); err != nil {
			return err
		}
	}
	if cycle.StatusDue && len(cycle.Statuses) > 0 {
		r := &PublishInstanceStatusRequest{
			Metadata: &InstanceStatusMetadata{Cluster: head.Cluster, ContainerInstance: head.ContainerInstance, RequestID: uuid.NewString()},
			Statuses: cycle.Statuses, Timestamp: Timestamp(now),
		}
		if err := c.send(ctx, r); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.status.LastPublishAt = time.Now()
	s.mu.Unlock()
	return nil
}

// send signs and writes one frame under the write lock.
func (c *conn) send(ctx context.Context, msg any) error {
	frame, err := Encode(msg)
	if err != nil {
		return err
	}
	signed, err := ecsws.SignFrame(ctx, c.url, frame, c.s.Credentials, c.s.Region, time.Now())
	if err != nil {
		return err
	}
	c.write.Lock()
	defer c.write.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.t.Write))
	if err := c.ws.WriteMessage(websocket.TextMessage, signed); err != nil {
		return fmt.Errorf("send %s: %w", ecsws.TypeName(msg), err)
	}
	metricMessages.WithLabelValues("sent", ecsws.TypeName(msg)).Inc()
	return nil
}
