// Package taskmetadata serves the task metadata and credentials endpoint
// on 127.0.0.1:ECS_TASK_METADATA_PORT, which containers reach as
// 169.254.170.2 (ecs-agent setup-host's rules):
//
//	/v2/credentials/<id>, /v1/credentials?id=<id>   a task role's credentials
//	/v4/<id>, /v4/<id>/task, /v4/<id>/taskWithTags  container and task metadata
//	/v4/<id>/stats, /v4/<id>/task/stats             Docker stats
//	/v3/<id>…                                       the same, in v3's shapes
//
// The paths, JSON fields, omissions, status codes and error bodies are
// the ECS agent's (../shared/protocols/TMDS.md). <id> is a container's
// metadata id (ContainerStatus.MetadataID), which only that container's
// environment carries; the agent never works out who is asking, as ECS
// does not. Every client IP gets a token bucket per path
// (ECS_TASK_METADATA_RPS_LIMIT).
//
// Answers come from memory: tasks from a watch of the store, credentials
// from the holder, stats from the Docker stats sampler.
package taskmetadata

import (
	"context"
	"encoding/json"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-logr/logr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Credentials finds a role's credentials by id; *credentials.Holder is
// one.
type Credentials interface {
	Lookup(id string) (credentials.Credentials, apiv1.RoleType, error)
}

// Stats gives a container's latest stats sample; *dockerstate.Stats is
// one.
type Stats interface {
	Sample(id string) (dockerstate.StatsSample, bool)
}

// Tags gives a task's tags for /taskWithTags (ECS ListTagsForResource);
// nil when the agent has no control plane.
type Tags interface {
	TaskTags(ctx context.Context, taskARN string) (map[string]string, error)
}

// Options configure a Server.
type Options struct {
	Store       store.Store
	Credentials Credentials
	Docker      docker
	Stats       Stats
	// Tags is optional; without it /taskWithTags has no TaskTags.
	Tags Tags
	// ContainerInstanceTags are the tags the instance registered with.
	ContainerInstanceTags map[string]string
	// Limit is ECS_TASK_METADATA_RPS_LIMIT; the zero value is the ECS
	// default (DefaultLimit).
	Limit Limit
	Log   logr.Logger
}

// Server answers the endpoint. Create it with New and keep its view of
// the tasks current with Run.
type Server struct {
	opts    Options
	tasks   *index
	limiter *limiter
}

// New returns a server reading opts.
func New(opts Options) *Server {
	if opts.Limit.Rate <= 0 || opts.Limit.Burst <= 0 {
		opts.Limit = DefaultLimit
	}
	return &Server{opts: opts, tasks: newIndex(), limiter: newLimiter(opts.Limit)}
}

// Run follows the store's tasks until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	go s.limiter.sweep(ctx)
	return s.tasks.follow(ctx, s.opts.Store)
}

// Timeout bounds reading a request and writing its answer, as the ECS
// agent's endpoint does.
const Timeout = 5 * time.Second

// Handler routes the endpoint's paths, every method (as the ECS agent
// does), behind the rate limit. An unclean path gets 301 to the clean one
// and an unknown one 404 "404 page not found", as from the ECS agent's
// router (gorilla/mux).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	// Without the slash it is no route of the ECS agent's (ServeMux would
	// redirect it to the subtree).
	mux.HandleFunc("/v2/credentials", http.NotFound)
	mux.HandleFunc("/v2/credentials/{id...}", func(w http.ResponseWriter, r *http.Request) {
		s.credentials(w, 2, r.PathValue("id"))
	})
	mux.HandleFunc("/v1/credentials", func(w http.ResponseWriter, r *http.Request) {
		s.credentials(w, 1, r.URL.Query().Get("id"))
	})
	for _, v := range []version{v3, v4} {
		p := "/" + v.name + "/"
		// As for /v2/credentials: without the slash it is no route.
		mux.HandleFunc("/"+v.name, http.NotFound)
		mux.HandleFunc(p+"{$}", s.container(v))
		mux.HandleFunc(p+"{eid}", s.container(v))
		mux.HandleFunc(p+"{eid}/task", s.task(v, false))
		mux.HandleFunc(p+"{eid}/taskWithTags", s.task(v, true))
		mux.HandleFunc(p+"{eid}/stats", s.containerStats(v))
		mux.HandleFunc(p+"{eid}/task/stats", s.taskStats(v))
	}
	return s.limiter.wrap(cleanPaths(mux))
}

// cleanPaths redirects a path with //, . or .. elements to its clean form
// with 301, keeping a trailing slash, as gorilla/mux does (Go's ServeMux
// would answer 307).
func cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		clean := path.Clean("/" + p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if clean != p {
			u := *r.URL
			u.Path, u.RawPath = clean, ""
			// A server reads a raw # in the request line as part of the
			// query; echoed as is, the client would take it for a fragment
			// and drop the rest of the query.
			u.RawQuery = strings.ReplaceAll(u.RawQuery, "#", "%23")
			w.Header().Set("Location", u.String())
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeJSON answers v as JSON, as every handler of the endpoint does.
func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		code, body = http.StatusInternalServerError, []byte(`"unable to marshal the response"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}
