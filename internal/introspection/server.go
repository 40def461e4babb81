// Package introspection serves the agent's local HTTP API on
// 127.0.0.1:ECS_INTROSPECTION_PORT:
//
//	GET /v1/metadata                   the ECS agent's instance metadata
//	GET /v1/tasks[?dockerid=|taskarn=] the ECS agent's task list, or one task
//	GET /healthz, /readyz              liveness and readiness
//	GET /metrics                       Prometheus metrics
//	GET /agent/v1/<resource>[/<name>]  the store's objects, for the CLI
//	GET /agent/v1/<resource>?watch=true  a stream of their changes
//	GET /agent/v1/top                  tasks' CPU and memory use, for `top`
//
// The /v1 paths keep the ECS agent's JSON field names and status codes, so
// scripts written against it keep working. Everything is read from the
// store; nothing here writes. Tasks are shown with their environment
// values, Docker label values and log options hidden (apiv1.HiddenValue).
package introspection

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Paths the server answers.
const (
	MetadataPath = "/v1/metadata"
	TasksPath    = "/v1/tasks"
	HealthzPath  = "/healthz"
	ReadyzPath   = "/readyz"
	MetricsPath  = "/metrics"
	// AgentAPIPrefix is the root of the CLI's API: AgentAPIPrefix +
	// "tasks", AgentAPIPrefix + "tasks/<name>".
	AgentAPIPrefix = "/agent/v1/"
)

// Options configure a Server.
type Options struct {
	// Store is read for every answer.
	Store store.Store
	// Ready reports why the agent is not ready yet (nil when it is); nil
	// means always ready.
	Ready func() error
	// Version is the agent's own version ("ecs-agent 1.2.3"); /v1/metadata
	// shows it in the ECS agent's format (see MetadataVersion).
	Version string
	// Gatherer is what /metrics serves besides the server's own metrics;
	// nil means controller-runtime's metrics.Registry, where the
	// controllers and the event recorder register theirs.
	Gatherer prometheus.Gatherer
	// Log receives request failures; the zero value discards them.
	Log logr.Logger
	// StreamWriteTimeout bounds each write of a watch stream (default
	// localserver.StreamWriteTimeout).
	StreamWriteTimeout time.Duration
	// Stats gives the latest Docker stats sample of a running container
	// (TopPath); nil when ECS_DISABLE_METRICS turned sampling off.
	Stats Stats
	// TaskMetrics (ECS_ENABLE_TASK_METRICS) adds each running task
	// container's CPU and memory from Stats to /metrics, within the
	// bounds MaxTaskMetricsTasks and MaxTaskMetricsContainers.
	TaskMetrics bool
}

// Server answers the introspection API. Create it with New.
type Server struct {
	opts     Options
	registry *prometheus.Registry // the server's own metrics
	requests *prometheus.CounterVec
	watches  prometheus.Gauge

	openWatches atomic.Int32

	closeOnce sync.Once
	closed    chan struct{} // closed by CloseWatches
}

// New returns a Server reading opts.Store.
func New(opts Options) *Server {
	if opts.Ready == nil {
		opts.Ready = func() error { return nil }
	}
	if opts.Gatherer == nil {
		opts.Gatherer = metrics.Registry
	}
	s := &Server{
		opts:     opts,
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ecs_agent_introspection_requests_total",
			Help: "Requests to the introspection API, by handler and status code.",
		}, []string{"handler", "code"}),
		watches: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ecs_agent_introspection_watches",
			Help: "Open watch streams of the agent API.",
		}),
		closed: make(chan struct{}),
	}
	// Per server, not global: tests and restarts create several servers,
	// and the object gauges read this server's store.
	s.registry.MustRegister(s.requests, s.watches, &objectCollector{store: opts.Store})
	if opts.TaskMetrics && opts.Stats != nil {
		s.registry.MustRegister(&taskUsageCollector{store: opts.Store, stats: opts.Stats,
			maxTasks: MaxTaskMetricsTasks, maxContainers: MaxTaskMetricsContainers})
	}
	return s
}

// Handler routes the server's paths.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, name string, h http.HandlerFunc) {
		mux.Handle(pattern, promhttp.InstrumentHandlerCounter(s.requests.MustCurryWith(prometheus.Labels{"handler": name}), h))
	}
	route("GET /{$}", "root", s.root)
	route("GET "+MetadataPath, "metadata", s.metadata)
	route("GET "+TasksPath, "tasks", s.tasks)
	route("GET "+HealthzPath, "healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok") })
	route("GET "+ReadyzPath, "readyz", s.readyz)
	route("GET "+TopPath, "agent-top", s.top)
	route("GET "+AgentAPIPrefix+"{resource}", "agent-list", s.list)
	route("GET "+AgentAPIPrefix+"{resource}/{name}", "agent-get", s.get)
	mux.Handle("GET "+MetricsPath, promhttp.HandlerFor(
		prometheus.Gatherers{s.opts.Gatherer, s.registry},
		promhttp.HandlerOpts{ErrorLog: promLogger{s.opts.Log}, ErrorHandling: promhttp.ContinueOnError},
	))
	return mux
}

// CloseWatches ends every open watch stream, and any opened later. Streams
// never end on their own, so http.Server.Shutdown would wait for them:
// register it with the server's RegisterOnShutdown.
func (s *Server) CloseWatches() {
	s.closeOnce.Do(func() { close(s.closed) })
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if err := s.opts.Ready(); err != nil {
		writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
		return
	}
	writeText(w, http.StatusOK, "ok")
}

func writeText(w http.ResponseWriter, code int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(strings.TrimSuffix(text, "\n") + "\n"))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Status is the body of an agent API error, as {"message": …}.
type Status struct {
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, Status{Message: msg})
}

// promLogger sends promhttp's errors to the agent's log.
type promLogger struct{ log logr.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Info("serve metrics", "error", strings.TrimSpace(fmt.Sprintln(v...)))
}
