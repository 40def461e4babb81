package introspection

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ecs-agent/ecs-agent/internal/localserver"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Watch event types besides the store's ADDED, MODIFIED and DELETED.
const (
	// WatchError ends a stream whose reader fell too far behind; its object
	// is a Status. The reader lists again and watches anew.
	WatchError = "ERROR"
)

// watchBuffer is how many changes a watch stream may fall behind the store
// before it is ended with WatchError: the store's watch callback must not
// block.
const watchBuffer = 1024

// WatchEvent is one line of a watch stream (newline-delimited JSON).
type WatchEvent struct {
	// Type is ADDED, MODIFIED, DELETED or ERROR.
	Type string `json:"type"`
	// Object is the api/v1 object (for DELETED, as it was); a Status for ERROR.
	Object json.RawMessage `json:"object"`
}

// watchEventOut is WatchEvent as the server writes it.
type watchEventOut struct {
	Type   string `json:"type"`
	Object any    `json:"object"`
}

func (s *Server) resource(w http.ResponseWriter, r *http.Request) (Resource, bool) {
	name := r.PathValue("resource")
	res, ok := ResourceFor(name)
	if !ok {
		names := make([]string, 0, len(Resources))
		for _, r := range Resources {
			names = append(names, r.Name)
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown resource %q: the agent serves %s", name, strings.Join(names, ", ")))
	}
	return res, ok
}

// list answers GET /agent/v1/<resource>: the api/v1 list, or with
// ?watch=true a stream of changes. Events may be filtered by
// ?involvedKind= and ?involvedName= (repeated for several objects).
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	res, ok := s.resource(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	filter := EventFilter{InvolvedKind: q.Get("involvedKind"), InvolvedNames: q["involvedName"]}
	if watch, _ := strconv.ParseBool(q.Get("watch")); watch {
		s.watch(w, r, res, filter)
		return
	}
	list := res.NewList()
	if err := s.opts.Store.List(r.Context(), list); err != nil {
		s.opts.Log.Error(err, "serve list", "resource", res.Name)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	if events, ok := list.(*apiv1.EventList); ok {
		filter.Apply(events)
	}
	if err := res.RedactList(list); err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("list %s: %v", res.Name, err))
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// get answers GET /agent/v1/<resource>/<name>.
func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	res, ok := s.resource(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	obj := res.NewObject()
	err := s.opts.Store.Get(r.Context(), name, obj)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s %q not found", res.Kind, name))
	case err != nil:
		s.opts.Log.Error(err, "serve get", "resource", res.Name, "name", name)
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, res.Shown(obj))
	}
}

// watch streams the resource's objects: first every current one as ADDED,
// then each change as it commits. The store watch is registered before the
// list is read, and changes the list already holds (resource version at or
// below the list's) are skipped, so nothing falls between the two.
func (s *Server) watch(w http.ResponseWriter, r *http.Request, res Resource, filter EventFilter) {
	if n := s.openWatches.Add(1); n > maxWatches {
		s.openWatches.Add(-1)
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("%d watch streams are open already, the most the agent serves; close one or list instead", maxWatches))
		return
	}
	defer s.openWatches.Add(-1)
	changes := make(chan store.Event, watchBuffer)
	overflow := make(chan struct{})
	var once sync.Once
	cancel := s.opts.Store.Watch(res.Kind, func(ev store.Event) {
		select {
		case changes <- ev:
		default:
			once.Do(func() { close(overflow) })
		}
	})
	defer cancel()

	list := res.NewList()
	if err := s.opts.Store.List(r.Context(), list); err != nil {
		s.opts.Log.Error(err, "serve watch", "resource", res.Name)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	listRV, _ := strconv.ParseUint(list.GetResourceVersion(), 10, 64)
	items, err := meta.ExtractList(list)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("list %s: %v", res.Name, err))
		return
	}

	s.watches.Inc()
	defer s.watches.Dec()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	out := newStream(w, s.streamWriteTimeout())
	for _, item := range items {
		if ev, ok := item.(*apiv1.Event); ok && !filter.Match(ev) {
			continue
		}
		if so, ok := item.(store.Object); ok {
			item = res.Shown(so)
		}
		if out.send(string(store.Added), item) != nil {
			return
		}
	}
	if out.flush() != nil {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		case <-overflow:
			_ = out.send(WatchError, Status{Message: "watch fell behind the store's changes; list and watch again"})
			_ = out.flush()
			return
		case ev := <-changes:
			if rv, _ := strconv.ParseUint(ev.Object.GetResourceVersion(), 10, 64); rv <= listRV {
				continue
			}
			if e, ok := ev.Object.(*apiv1.Event); ok && !filter.Match(e) {
				continue
			}
			if out.send(string(ev.Type), res.Shown(ev.Object)) != nil || out.flush() != nil {
				return
			}
		}
	}
}

// stream writes newline-delimited watch events. Each write gets its own
// deadline, so a client that stops reading is dropped instead of holding
// the handler (and its store watch) forever.
type stream struct {
	enc     *json.Encoder
	rc      *http.ResponseController
	timeout time.Duration
}

func newStream(w http.ResponseWriter, timeout time.Duration) *stream {
	return &stream{enc: json.NewEncoder(w), rc: http.NewResponseController(w), timeout: timeout}
}

func (s *stream) send(typ string, obj any) error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil {
		return err
	}
	return s.enc.Encode(watchEventOut{Type: typ, Object: obj})
}

func (s *stream) flush() error { return s.rc.Flush() }

// maxWatches bounds the watch streams open at once: each holds a store
// watch and a buffer of up to watchBuffer changes.
const maxWatches = 64

func (s *Server) streamWriteTimeout() time.Duration {
	if s.opts.StreamWriteTimeout > 0 {
		return s.opts.StreamWriteTimeout
	}
	return localserver.StreamWriteTimeout
}
