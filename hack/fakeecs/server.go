package fakeecs

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Server serves a Fake on a TCP address that survives Stop and Restart, so a test can make the
// endpoint unreachable (connection refused) and bring it back with its state intact.
type Server struct {
	// Fake is the endpoint's state and fault controls.
	*Fake

	addr string

	mu  sync.Mutex
	srv *http.Server
}

// Start serves a new Fake (region us-west-2 unless opts says otherwise) on addr, e.g.
// "127.0.0.1:0"; the port picked is kept for Restart.
func Start(addr string, opts ...Options) (*Server, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s := &Server{Fake: New(o), addr: addr}
	if err := s.listen(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("fake ECS endpoint: listen on %s: %w", s.addr, err)
	}
	s.addr = l.Addr().String()
	s.Fake.setEndpoint("http://" + s.addr)
	srv := &http.Server{Handler: s.Fake, ReadHeaderTimeout: 10 * time.Second}
	s.srv = srv
	// Serve returns http.ErrServerClosed after Stop, the only way it ends.
	go func() { _ = srv.Serve(l) }()
	return nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// URL is the endpoint's base URL, for ECS_BACKEND_HOST or the client's BaseEndpoint.
func (s *Server) URL() string { return "http://" + s.addr }

// Stop closes the listener and every open connection: callers get connection refused until
// Restart. The state is kept.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		_ = s.srv.Close()
		s.srv = nil
		// Close does not end hijacked connections: the ACS sessions go by hand.
		s.Fake.closeACS()
		s.Fake.mu.Lock()
		s.Fake.closeTCS()
		s.Fake.mu.Unlock()
	}
}

// Restart listens again on the same address after Stop, retrying for a few seconds while the
// port is still held by the closing listener.
func (s *Server) Restart() error {
	var err error
	if wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 5*time.Second, true,
		func(context.Context) (bool, error) {
			err = s.listen()
			return err == nil, nil
		}) != nil {
		return err
	}
	return nil
}

// Running tells whether the server is listening.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv != nil
}
