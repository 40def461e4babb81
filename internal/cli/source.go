package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/introspection"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// source is where the CLI reads objects: the running agent or its file.
type source interface {
	// list reads every object of the resource; filter applies to events.
	list(ctx context.Context, res introspection.Resource, filter introspection.EventFilter) (store.ObjectList, error)
	// watch calls fn with every current object (as ADDED) and then every
	// change, until ctx ends or fn fails.
	watch(ctx context.Context, res introspection.Resource, fn func(typ string, obj store.Object) error) error
	// where says what is being read, for messages.
	where() string
	close() error
}

// errNoWatch says a source cannot watch: a stopped agent's file never changes.
var errNoWatch = errors.New("the agent is not running, so nothing changes: --watch shows the state as it is")

// agentClient reads from the running agent's agent API.
type agentClient struct {
	base string
	http *http.Client
}

func newAgentClient(port int) *agentClient {
	transport := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: pingTimeout}).DialContext,
		ResponseHeaderTimeout: requestTimeout,
		Proxy:                 nil, // 127.0.0.1 must never go through a proxy
	}
	return &agentClient{
		base: "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		http: &http.Client{Transport: transport},
	}
}

func (a *agentClient) where() string { return "the agent at " + a.base }

func (a *agentClient) close() error {
	a.http.CloseIdleConnections()
	return nil
}

// ping checks that an agent answers, quickly.
func (a *agentClient) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	resp, err := a.do(ctx, introspection.HealthzPath)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func (a *agentClient) do(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var status introspection.Status
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(body, &status) != nil || status.Message == "" {
			status.Message = string(body)
		}
		return nil, &statusError{path: path, status: resp.Status, code: resp.StatusCode, message: status.Message}
	}
	return resp, nil
}

// statusError is the agent's answer to a request that failed, with its
// message, so that a caller can tell one answer from another.
type statusError struct {
	path, status string
	code         int
	message      string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("GET %s: %s: %s", e.path, e.status, e.message)
}

// metrics reads the agent's Prometheus metrics.
func (a *agentClient) metrics(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := a.do(ctx, introspection.MetricsPath)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
}

func resourcePath(res introspection.Resource, filter introspection.EventFilter, watch bool) string {
	q := url.Values{}
	if filter.InvolvedKind != "" {
		q.Set("involvedKind", filter.InvolvedKind)
	}
	for _, name := range filter.InvolvedNames {
		q.Add("involvedName", name)
	}
	if watch {
		q.Set("watch", "true")
	}
	p := introspection.AgentAPIPrefix + url.PathEscape(res.Name)
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

func (a *agentClient) list(ctx context.Context, res introspection.Resource, filter introspection.EventFilter) (store.ObjectList, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := a.do(ctx, resourcePath(res, filter, false))
	if err != nil {
		return nil, fmt.Errorf("list %s from %s: %w", res.Name, a.where(), err)
	}
	defer resp.Body.Close()
	list := res.NewList()
	if err := json.NewDecoder(resp.Body).Decode(list); err != nil {
		return nil, fmt.Errorf("list %s from %s: decode: %w", res.Name, a.where(), err)
	}
	return list, nil
}

// errRestart says the agent ended a watch that fell behind; list and
// watch again.
var errRestart = errors.New("watch restarted")

func (a *agentClient) watch(ctx context.Context, res introspection.Resource, fn func(string, store.Object) error) error {
	for {
		err := a.watchOnce(ctx, res, fn)
		if !errors.Is(err, errRestart) {
			return err
		}
	}
}

func (a *agentClient) watchOnce(ctx context.Context, res introspection.Resource, fn func(string, store.Object) error) error {
	resp, err := a.do(ctx, resourcePath(res, introspection.EventFilter{}, true))
	if err != nil {
		return fmt.Errorf("watch %s on %s: %w", res.Name, a.where(), err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var ev introspection.WatchEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("watch %s: decode %q: %w", res.Name, sc.Bytes(), err)
		}
		if ev.Type == introspection.WatchError {
			return errRestart
		}
		obj := res.NewObject()
		if err := json.Unmarshal(ev.Object, obj); err != nil {
			return fmt.Errorf("watch %s: decode object: %w", res.Name, err)
		}
		if err := fn(ev.Type, obj); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("watch %s on %s: %w", res.Name, a.where(), err)
	}
	return fmt.Errorf("watch %s: %s closed the stream (the agent stopped?)", res.Name, a.where())
}

// storeSource reads a stopped agent's store file.
type storeSource struct {
	store *store.Bolt
}

func (s *storeSource) where() string { return "the store file " + s.store.Path() }

func (s *storeSource) close() error { return s.store.Close() }

func (s *storeSource) list(ctx context.Context, res introspection.Resource, filter introspection.EventFilter) (store.ObjectList, error) {
	list := res.NewList()
	if err := s.store.List(ctx, list); err != nil {
		return nil, fmt.Errorf("list %s from %s: %w", res.Name, s.where(), err)
	}
	if events, ok := list.(*apiv1.EventList); ok {
		filter.Apply(events)
	}
	if err := res.RedactList(list); err != nil {
		return nil, fmt.Errorf("list %s from %s: %w", res.Name, s.where(), err)
	}
	return list, nil
}

func (s *storeSource) watch(context.Context, introspection.Resource, func(string, store.Object) error) error {
	return errNoWatch
}
