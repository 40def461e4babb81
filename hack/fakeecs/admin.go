package fakeecs

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-agent/ecs-agent/internal/ecswire"
)

// State is a snapshot of everything the fake holds, in the wire form of each ECS shape.
type State struct {
	Clusters           []types.Cluster           `json:"-"`
	TaskDefinitions    []types.TaskDefinition    `json:"-"`
	ContainerInstances []types.ContainerInstance `json:"-"`
	Tasks              []types.Task              `json:"-"`
}

// Snapshot returns copies of all clusters, task definitions, container instances and tasks.
func (f *Fake) Snapshot() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s State
	for _, name := range f.clusterSeq {
		s.Clusters = append(s.Clusters, f.withCounts(f.clusters[name]))
	}
	for _, fam := range f.families {
		for _, td := range f.taskDefs[fam] {
			s.TaskDefinitions = append(s.TaskDefinitions, clone(td.def))
		}
	}
	for _, arn := range f.instSeq {
		s.ContainerInstances = append(s.ContainerInstances, f.describeInstance(f.instances[arn]))
	}
	for _, arn := range f.taskSeq {
		s.Tasks = append(s.Tasks, clone(*f.tasks[arn]))
	}
	return s
}

// serveAdmin serves the JSON admin API:
//
//	GET    /_fake/state    clusters, taskDefinitions, containerInstances, tasks (ECS wire shapes)
//	GET    /_fake/reports  the Submit… reports in order (?task=<arn> for one task)
//	GET    /_fake/calls    call counts per action; DELETE resets them
//	GET    /_fake/faults   the faults in force
//	POST   /_fake/faults   add one: {"kind":"throttle|server-error|latency","action":"ListTasks",
//	                       "count":3,"duration":"30s","latency":"200ms"}
//	DELETE /_fake/faults   clear all (?id=N for one)
//	/_fake/acs…            the ACS side: see serveACSAdmin
func (f *Fake) serveAdmin(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_fake/state":
		if !allow(w, r, http.MethodGet) {
			return
		}
		s := f.Snapshot()
		wire := map[string]any{}
		for k, v := range map[string]any{"clusters": s.Clusters, "taskDefinitions": s.TaskDefinitions,
			"containerInstances": s.ContainerInstances, "tasks": s.Tasks} {
			b, err := ecswire.Marshal(v)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			wire[k] = json.RawMessage(b)
		}
		writeJSON(w, http.StatusOK, wire)
	case "/_fake/reports":
		if !allow(w, r, http.MethodGet) {
			return
		}
		reps := f.Reports()
		if task := r.URL.Query().Get("task"); task != "" {
			reps = f.ReportsFor(task)
		}
		if reps == nil {
			reps = []Report{}
		}
		writeJSON(w, http.StatusOK, reps)
	case "/_fake/calls":
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"calls": f.Calls(), "total": f.TotalCalls()})
		case http.MethodDelete:
			f.ResetCalls()
			w.WriteHeader(http.StatusNoContent)
		default:
			allow(w, r, http.MethodGet, http.MethodDelete)
		}
	case "/_fake/faults":
		f.serveFaults(w, r)
	case "/_fake/acs", "/_fake/acs/faults", "/_fake/acs/manifest", "/_fake/acs/credentials", "/_fake/acs/close":
		f.serveACSAdmin(w, r)
	case "/_fake/tcs":
		// What the TCS side took: sessions, every request with its receive time, violations.
		if allow(w, r, http.MethodGet) {
			writeJSON(w, http.StatusOK, f.TCS())
		}
	default:
		http.NotFound(w, r)
	}
}

func (f *Fake) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, f.Faults())
	case http.MethodPost:
		var req struct {
			Kind     FaultKind `json:"kind"`
			Action   string    `json:"action"`
			Count    int       `json:"count"`
			Duration string    `json:"duration"`
			Latency  string    `json:"latency"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "fault: "+err.Error(), http.StatusBadRequest)
			return
		}
		ft := Fault{Kind: req.Kind, Action: req.Action, Count: req.Count}
		if req.Duration != "" {
			d, err := time.ParseDuration(req.Duration)
			if err != nil {
				http.Error(w, "fault duration: "+err.Error(), http.StatusBadRequest)
				return
			}
			ft.Until = f.now().Add(d)
		}
		if req.Latency != "" {
			d, err := time.ParseDuration(req.Latency)
			if err != nil {
				http.Error(w, "fault latency: "+err.Error(), http.StatusBadRequest)
				return
			}
			ft.Latency = d
		}
		id, err := f.InjectFault(ft)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]int{"id": id})
	case http.MethodDelete:
		if s := r.URL.Query().Get("id"); s != "" {
			id, err := strconv.Atoi(s)
			if err != nil {
				http.Error(w, "fault id: "+err.Error(), http.StatusBadRequest)
				return
			}
			f.ClearFault(id)
		} else {
			f.ClearFaults()
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		allow(w, r, http.MethodGet, http.MethodPost, http.MethodDelete)
	}
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshalJSON(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func marshalJSON(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }
