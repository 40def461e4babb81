package dockerstate_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// daemonProxy is a unix-socket HTTP proxy in front of the real daemon, so a
// test can take the daemon away and bring it back, or make it misbehave,
// without touching the daemon itself.
type daemonProxy struct {
	path   string
	target string
	// muteEvents answers /events but never forwards an event: the stream
	// losing events, which only the relist can make up for.
	muteEvents atomic.Bool
	// stall holds every request until the client gives up: a hung daemon.
	stall atomic.Bool
	// muteStats holds back every stats stream's next bytes, open or new,
	// until the client gives up: a daemon whose stats went silent.
	muteStats atomic.Bool
	// statsOpened counts the stats requests passed to the daemon.
	statsOpened atomic.Int64
	// lists counts the container lists passed to the daemon; inspected
	// holds each path of a container inspect passed to it.
	lists     atomic.Int64
	inspected sync.Map

	mu  sync.Mutex
	srv *http.Server
}

func startProxy(t *testing.T) *daemonProxy {
	t.Helper()
	p := &daemonProxy{path: filepath.Join(t.TempDir(), "docker.sock"), target: daemonSocket()}
	p.up(t)
	t.Cleanup(func() { p.cut(t) })
	return p
}

// host is the DOCKER_HOST that reaches the daemon through the proxy.
func (p *daemonProxy) host() string { return "unix://" + p.path }

// up starts serving on the socket path.
func (p *daemonProxy) up(t *testing.T) {
	t.Helper()
	lis, err := net.Listen("unix", p.path)
	if err != nil {
		t.Fatalf("proxy listen on %s: %v", p.path, err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: "docker"})
		},
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", p.target)
			},
		},
		FlushInterval: -1, // the events stream must flow as it comes
		ModifyResponse: func(res *http.Response) error {
			if strings.HasSuffix(res.Request.URL.Path, "/stats") {
				res.Body = &mutable{ReadCloser: res.Body, mute: &p.muteStats, done: res.Request.Context().Done()}
			}
			return nil
		},
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case p.stall.Load():
			<-r.Context().Done()
		case p.muteEvents.Load() && strings.HasSuffix(r.URL.Path, "/events"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		default:
			if strings.HasSuffix(r.URL.Path, "/stats") {
				p.statsOpened.Add(1)
			}
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/containers/json") {
				p.lists.Add(1)
			} else if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/containers/") && strings.HasSuffix(r.URL.Path, "/json") {
				p.inspected.Store(r.URL.Path, true)
			}
			rp.ServeHTTP(w, r)
		}
	})}
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("proxy serve: %v", err)
		}
	}()
}

// cut closes the socket and every connection through it, as a daemon that
// exits does.
func (p *daemonProxy) cut(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv == nil {
		return
	}
	if err := p.srv.Close(); err != nil {
		t.Errorf("proxy close: %v", err)
	}
	p.srv = nil
}

// wasInspected says whether a container inspect of id went through.
func (p *daemonProxy) wasInspected(id string) bool {
	found := false
	p.inspected.Range(func(k, _ any) bool {
		found = strings.Contains(k.(string), "/containers/"+id+"/")
		return !found
	})
	return found
}

// mutable is a response body that passes nothing on while mute is set,
// until the request ends.
type mutable struct {
	io.ReadCloser
	mute *atomic.Bool
	done <-chan struct{}
}

func (m *mutable) Read(b []byte) (int, error) {
	if m.mute.Load() {
		<-m.done
		return 0, context.Canceled
	}
	return m.ReadCloser.Read(b)
}
