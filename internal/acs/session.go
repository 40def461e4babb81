// Package acs speaks ACS, the ECS Agent Communication Service: the
// websocket session through which ECS pushes tasks, role credentials,
// task manifests and heartbeats to the agent of a container instance, and
// which makes the instance "connected" (ECS places tasks only on connected
// instances). It holds the messages (messages.go, frame.go), the signed
// upgrade URL (url.go) and the session with its timers and reconnects
// (session.go, conn.go). What a message means for the agent's objects is
// the caller's, through Handler.
//
// The wire facts come from the ECS agent (protocols/ACS.md in the design
// notes); no framing or signing is hand-written: gorilla/websocket frames,
// the SDK's SigV4 signer signs.
package acs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/go-logr/logr"
	"github.com/gorilla/websocket"

	"github.com/ecs-agent/ecs-agent/internal/ecsws"
)

// Handler is what the session's owner does with the messages that change
// the agent's state. Each method runs on the session's reader, one at a
// time; a nil error (or accepted) lets the session send the ack, anything
// else sends none, so that ACS sends the message again.
type Handler interface {
	// Payload persists the payload's tasks; nil means every one of them is
	// persisted.
	Payload(ctx context.Context, m *PayloadMessage) error
	// Credentials keeps a task's role credentials; nil means kept.
	Credentials(ctx context.Context, m *IAMRoleCredentialsMessage) error
	// Manifest compares the manifest with the tasks the agent holds. A
	// manifest that is not accepted (older than the high-water mark) is
	// dropped unacked; an accepted one is acked and its candidates (tasks
	// the agent runs that the manifest does not list RUNNING) are sent for
	// verification.
	Manifest(ctx context.Context, m *TaskManifestMessage) (candidates []TaskIdentifier, accepted bool, err error)
	// StopVerified stops the tasks ECS confirmed as stopped.
	StopVerified(ctx context.Context, m *TaskStopVerificationAck) error
	// ServerMessage is told of CloseMessage, ErrorMessage and exception
	// frames, which call for nothing but a log line.
	ServerMessage(ctx context.Context, m any)
}

// ErrInactiveInstance is wrapped by Run's error when ACS refuses the session
// because the container instance was deregistered.
var ErrInactiveInstance = errors.New("ACS refused the session with InactiveInstanceException: the container instance is deregistered")

// Status is the session as last seen, for the CLI and metrics.
type Status struct {
	Connected bool
	// Endpoint is the ACS endpoint DiscoverPollEndpoint last named.
	Endpoint       string
	ConnectedSince time.Time
	// LastMessageAt and LastMessageType are of the last frame received.
	LastMessageAt   time.Time
	LastMessageType string
	// LastHeartbeatAt is of the last HeartbeatMessage: telemetry sends the
	// instance's status at most once per heartbeat.
	LastHeartbeatAt time.Time
	// Sessions counts upgrades that succeeded; Reconnects is Sessions-1.
	Sessions int64
	// LastError says why the last connect failed or the last session ended.
	LastError string
}

// Reconnects is the number of sessions opened after the first.
func (s Status) Reconnects() int64 { return max(0, s.Sessions-1) }

// Session keeps one ACS session open for a container instance: it discovers
// the endpoint, connects, serves the session until it ends, and connects
// again, immediately after a normal close and with backoff after a failure.
type Session struct {
	// Discover returns the ACS endpoint (DiscoverPollEndpoint's endpoint,
	// an http(s) URL); it is called before every connect.
	Discover func(ctx context.Context) (string, error)
	// Params are the URL's parameters; SendCredentials is the session's.
	Params Params
	// Credentials and Region sign the upgrade (the agent's own identity).
	Credentials aws.CredentialsProvider
	Region      string
	Handler     Handler
	Log         logr.Logger
	// Timing overrides timers for tests; zero fields are the constants.
	Timing Timing
	// OnChange, when set, is called (on the session's goroutine) after the
	// status changed: connected, disconnected, a message received.
	OnChange func(Status)
	// TLSConfig, when set, replaces the default (TLS 1.2 or newer).
	TLSConfig *tls.Config

	mu       sync.Mutex
	status   Status
	upgraded bool
}

// Status returns the session's status.
func (s *Session) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Connected tells whether a session is open.
func (s *Session) Connected() bool { return s.Status().Connected }

// Run keeps a session open until ctx ends (nil then). It returns an error
// wrapping ErrInactiveInstance when ACS refuses the instance as
// deregistered; every other failure is retried.
func (s *Session) Run(ctx context.Context) error {
	t := s.Timing.withDefaults()
	b := &ecsws.Backoff{Min: t.BackoffMin, Max: t.BackoffMax, Multiplier: BackoffMultiplier, Jitter: BackoffJitter}
	failing := false
	for ctx.Err() == nil {
		conn, err := s.connect(ctx, t)
		var wait time.Duration
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrInactiveInstance):
			s.setError(err)
			return err
		case err != nil:
			s.setError(err)
			wait = b.Wait()
			if !failing {
				s.Log.Info("cannot open the ACS session; retrying with backoff, polling meanwhile", "error", err.Error(), "retryIn", wait.Round(time.Millisecond).String())
			} else {
				s.Log.V(1).Info("cannot open the ACS session", "error", err.Error(), "retryIn", wait.Round(time.Millisecond).String())
			}
			failing = true
		default:
			failing = false
			started := time.Now()
			end := s.serve(ctx, conn, t)
			if ctx.Err() != nil {
				return nil
			}
			if time.Since(started) >= ecsws.Jittered(t.BackoffResetAfter, t.BackoffResetJitter) {
				b.Reset()
			}
			if end.immediate {
				b.Reset()
			} else {
				wait = b.Wait()
			}
			s.Log.Info("ACS session ended; reconnecting", "reason", end.reason, "retryIn", wait.Round(time.Millisecond).String())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	return nil
}

// connect discovers the endpoint and upgrades a signed GET to a websocket.
func (s *Session) connect(ctx context.Context, t Timing) (*websocket.Conn, error) {
	endpoint, err := s.Discover(ctx)
	if err != nil {
		return nil, fmt.Errorf("discover the ACS endpoint: %w", err)
	}
	s.mu.Lock()
	s.status.Endpoint = endpoint
	p := s.Params
	p.SendCredentials = !s.upgraded
	s.mu.Unlock()
	wsURL, err := URL(endpoint, p)
	if err != nil {
		return nil, err
	}
	conn, resp, err := ecsws.Dial(ctx, wsURL, s.Credentials, s.Region, s.TLSConfig, t.Handshake)
	if err != nil {
		return nil, refusal(endpoint, resp, err)
	}
	s.mu.Lock()
	s.upgraded = true
	now := time.Now()
	s.status.Connected, s.status.ConnectedSince, s.status.LastError = true, now, ""
	s.status.Sessions++
	st := s.status
	s.mu.Unlock()
	metricConnected.Set(1)
	if st.Sessions > 1 {
		metricReconnects.Inc()
	}
	s.Log.Info("ACS session open", "endpoint", endpoint, "sendCredentials", p.SendCredentials, "sessions", st.Sessions)
	s.changed(st)
	return conn, nil
}

// refusal turns a failed upgrade into an error naming the exception ACS
// answered with, if any.
func refusal(endpoint string, resp *http.Response, err error) error {
	if resp == nil {
		return fmt.Errorf("connect to ACS at %s: %w", endpoint, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	ex := DecodeRefusal(body)
	switch {
	case ex != nil && ex.Type == ExceptionInactiveInstance:
		return fmt.Errorf("%w: %s", ErrInactiveInstance, ex.Message)
	case ex != nil:
		return fmt.Errorf("ACS at %s refused the session (HTTP %d): %w", endpoint, resp.StatusCode, ex)
	}
	return fmt.Errorf("ACS at %s refused the session (HTTP %d): %w", endpoint, resp.StatusCode, err)
}

func (s *Session) setError(err error) {
	s.mu.Lock()
	s.status.LastError = err.Error()
	st := s.status
	s.mu.Unlock()
	s.changed(st)
}

func (s *Session) changed(st Status) {
	if s.OnChange != nil {
		s.OnChange(st)
	}
}
