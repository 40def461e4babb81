package taskmetadata

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// version is what differs between /v3 and /v4: the shapes, the status of
// an unknown id on the metadata and the stats paths, how a missing
// sample reads, and whether stats carry the network rate.
type version struct {
	name, label  string // "v4", "V4"
	unknownMeta  int
	unknownStats int
	noSample     json.RawMessage
	networkRate  bool
}

var (
	v4 = version{name: "v4", label: "V4", unknownMeta: http.StatusNotFound, unknownStats: http.StatusNotFound,
		noSample: json.RawMessage(`{}`), networkRate: true}
	v3 = version{name: "v3", label: "V3", unknownMeta: http.StatusInternalServerError, unknownStats: http.StatusBadRequest,
		noSample: json.RawMessage(`null`)}
)

// find resolves the request's metadata id, or answers the version's error
// for an unknown one (a JSON string naming the handler, as the ECS agent
// writes).
func (s *Server) find(w http.ResponseWriter, r *http.Request, v version, handler string, code int) (*apiv1.Task, string, bool) {
	eid := r.PathValue("eid")
	t, container, ok := s.tasks.lookup(eid)
	if !ok {
		writeJSON(w, code, fmt.Sprintf("%s %s handler: unable to get container for endpoint ID: %q", v.label, handler, eid))
		return nil, "", false
	}
	return t, container, true
}

func (s *Server) container(v version) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, name, ok := s.find(w, r, v, "container metadata", v.unknownMeta)
		if !ok {
			return
		}
		c := t.Spec.ContainerSpecFor(name)
		if c == nil {
			writeJSON(w, http.StatusInternalServerError, fmt.Sprintf("unable to generate metadata for container '%s'", name))
			return
		}
		resp := newContainer(t, c, s.opts.Docker)
		if v.name == v3.name {
			writeJSON(w, http.StatusOK, containerV3(resp))
			return
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

func (s *Server) task(v version, withTags bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, _, ok := s.find(w, r, v, "task metadata", v.unknownMeta)
		if !ok {
			return
		}
		resp := newTask(t, s.opts.Docker)
		if withTags {
			s.addTags(r.Context(), t, &resp)
		}
		if v.name == v3.name {
			writeJSON(w, http.StatusOK, taskV3(resp))
			return
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// addTags adds the instance's and the task's tags. A failure to read the
// task's is an entry of Errors, and the answer is still 200.
func (s *Server) addTags(ctx context.Context, t *apiv1.Task, resp *TaskResponse) {
	if len(s.opts.ContainerInstanceTags) > 0 {
		resp.ContainerInstanceTags = s.opts.ContainerInstanceTags
	}
	if s.opts.Tags == nil || t.Spec.Source != apiv1.SourceECS {
		return
	}
	tags, err := s.opts.Tags.TaskTags(ctx, t.Spec.Arn)
	if err != nil {
		resp.Errors = append(resp.Errors, ErrorResponse{ErrorField: "TaskTags", ErrorMessage: err.Error(), ResourceARN: t.Spec.Arn})
		return
	}
	if len(tags) > 0 {
		resp.TaskTags = tags
	}
}

func (s *Server) containerStats(v version) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, name, ok := s.find(w, r, v, "container stats", v.unknownStats)
		if !ok {
			return
		}
		cs := t.Status.ContainerStatusFor(name)
		if cs == nil {
			writeJSON(w, http.StatusInternalServerError, fmt.Sprintf("Unable to get container stats for: %s", name))
			return
		}
		writeJSON(w, http.StatusOK, s.sample(v, cs.DockerID))
	}
}

func (s *Server) taskStats(v version) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, _, ok := s.find(w, r, v, "task stats", v.unknownStats)
		if !ok {
			return
		}
		out := map[string]json.RawMessage{}
		for _, cs := range t.Status.Containers {
			if cs.DockerID != "" {
				out[cs.DockerID] = s.sample(v, cs.DockerID)
			}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// sample is a container's latest Docker stats document, with v4's
// network_rate_stats once two samples gave a rate; the version's empty
// answer without one.
func (s *Server) sample(v version, dockerID string) json.RawMessage {
	if s.opts.Stats == nil || dockerID == "" {
		return v.noSample
	}
	sm, ok := s.opts.Stats.Sample(dockerID)
	if !ok {
		return v.noSample
	}
	doc := bytes.TrimSpace(sm.JSON)
	if !v.networkRate || !sm.HasNetworkRate || len(doc) < 2 || doc[len(doc)-1] != '}' {
		return doc
	}
	// The document is passed on as the daemon wrote it; the rate is one
	// more member at its end.
	rate := fmt.Sprintf(`,"network_rate_stats":{"rx_bytes_per_sec":%g,"tx_bytes_per_sec":%g}}`, sm.RxBytesPerSec, sm.TxBytesPerSec)
	out := make([]byte, 0, len(doc)+len(rate))
	return append(append(out, doc[:len(doc)-1]...), rate...)
}
