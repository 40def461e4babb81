package fakeecs

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ecs-agent/ecs-agent/internal/ecsws"
	"github.com/ecs-agent/ecs-agent/internal/tcs"
)

// The fake's TCS side: DiscoverPollEndpoint's telemetryEndpoint names TCSPrefix on the fake
// itself; GET <TCSPrefix>ws upgrades once the SigV4 signature, the query and the instance check
// out, as on ACS. Every frame the agent sends must carry its own signature for the session's URL
// (ecsws.VerifyFrame) and keep TCS's rules: at most 10 tasks and 1 MiB a request, requests of a
// cycle sharing a messageId with fin on the last, idle only alone, numeric timestamps, coherent
// statistic sets. A frame that breaks one is recorded as a violation and answered with an
// exception instead of an ack; a bad signature also ends the session. Good frames are recorded
// with their receive time and acked; heartbeats go every ACSHeartbeat.

// TCSPrefix is the path DiscoverPollEndpoint names as the telemetry endpoint.
const TCSPrefix = "/tcs/"

// TCSRecord is one request the fake took, with its receive time.
type TCSRecord struct {
	Time     time.Time                         `json:"time"`
	Instance string                            `json:"instance"`
	Metrics  *tcs.PublishMetricsRequest        `json:"metrics,omitempty"`
	Health   *tcs.PublishHealthRequest         `json:"health,omitempty"`
	Status   *tcs.PublishInstanceStatusRequest `json:"status,omitempty"`
}

// TCSState is what GET /_fake/tcs shows.
type TCSState struct {
	// Sessions counts sessions ever opened, by instance; Open lists the open ones.
	Sessions   map[string]int `json:"sessions"`
	Open       []string       `json:"open"`
	Records    []TCSRecord    `json:"records"`
	Violations []string       `json:"violations"`
}

// tcsState lives under f.mu.
type tcsState struct {
	conns      map[string]*websocket.Conn
	opened     map[string]int
	records    []TCSRecord
	violations []string
	// refuse, when set, refuses every upgrade with that exception.
	refuse string
	// cycle is each instance's metrics cycle in progress (its messageId) and the last one
	// that ended with fin.
	cycle, finished map[string]string
}

func newTCSState() tcsState {
	return tcsState{conns: map[string]*websocket.Conn{}, opened: map[string]int{}, cycle: map[string]string{}, finished: map[string]string{}}
}

// telemetryEndpoint is DiscoverPollEndpoint's telemetryEndpoint; callers hold f.mu.
func (f *Fake) telemetryEndpoint() string {
	if f.acs.off {
		return f.acs.endpoint + noACSPath + "tcs/"
	}
	return f.acs.endpoint + TCSPrefix
}

// serveTCS answers GET <TCSPrefix>ws.
func (f *Fake) serveTCS(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	inst, ex := f.admitTCS(r)
	f.mu.Unlock()
	if ex != nil {
		refuseUpgrade(w, ex)
		return
	}
	sessionURL := "ws://" + r.Host + r.URL.RequestURI()
	up := websocket.Upgrader{HandshakeTimeout: 10 * time.Second}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	// A frame over the limit fails the read, which the reader records.
	ws.SetReadLimit(tcs.MaxMessageBytes + 64<<10)
	f.mu.Lock()
	if old := f.tcs.conns[inst]; old != nil {
		_ = old.Close()
	}
	f.tcs.conns[inst] = ws
	f.tcs.opened[inst]++
	f.mu.Unlock()
	done := make(chan struct{})
	go f.tcsHeartbeats(ws, done)
	go func() {
		defer close(done)
		f.readTCS(ws, inst, sessionURL)
	}()
}

// admitTCS checks an upgrade as TCS does; callers hold f.mu.
func (f *Fake) admitTCS(r *http.Request) (string, *ecsws.Exception) {
	refuse := func(typ, format string, args ...any) (string, *ecsws.Exception) {
		return "", &ecsws.Exception{Type: typ, Message: fmt.Sprintf(format, args...)}
	}
	if f.tcs.refuse != "" {
		return refuse(f.tcs.refuse, "refused by an injected fault")
	}
	if err := f.verify(r); err != nil {
		return refuse(tcs.ExceptionAccessDenied, "%v", err)
	}
	q := r.URL.Query()
	for _, p := range []string{tcs.ParamCluster, tcs.ParamContainerInstance, tcs.ParamAgentVersion} {
		if q.Get(p) == "" {
			return refuse(tcs.ExceptionBadRequest, "missing query parameter %s", p)
		}
	}
	c, err := f.cluster(ptr(q.Get(tcs.ParamCluster)))
	if err != nil {
		return refuse(tcs.ExceptionResourceValidation, "cluster %s not found", q.Get(tcs.ParamCluster))
	}
	ci, ok := f.instance(c, q.Get(tcs.ParamContainerInstance))
	if !ok || !inCluster(c, deref(ci.ContainerInstanceArn)) || deref(ci.Status) == "INACTIVE" {
		return refuse(tcs.ExceptionResourceValidation, "container instance %s is not an active instance of cluster %s", q.Get(tcs.ParamContainerInstance), deref(c.ClusterName))
	}
	return deref(ci.ContainerInstanceArn), nil
}

// tcsHeartbeats sends a HeartbeatMessage every heartbeat interval until done.
func (f *Fake) tcsHeartbeats(ws *websocket.Conn, done <-chan struct{}) {
	f.mu.Lock()
	every := f.acs.heartbeat
	f.mu.Unlock()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			f.sendTCS(ws, &tcs.HeartbeatMessage{Healthy: true})
		}
	}
}

// sendTCS writes one frame; gorilla allows one writer at a time, so writes go under f.mu.
func (f *Fake) sendTCS(ws *websocket.Conn, msg any) {
	data, err := tcs.Encode(msg)
	if err != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_ = ws.WriteMessage(websocket.TextMessage, data)
}

// readTCS checks, records and acks the agent's frames until the session ends.
func (f *Fake) readTCS(ws *websocket.Conn, inst, sessionURL string) {
	defer func() {
		_ = ws.Close()
		f.mu.Lock()
		if f.tcs.conns[inst] == ws {
			delete(f.tcs.conns, inst)
		}
		f.mu.Unlock()
	}()
	for {
		_, data, err := ws.ReadMessage()
		if errors.Is(err, websocket.ErrReadLimit) {
			f.violation(inst, "a frame over the 1 MiB limit")
		}
		if err != nil {
			return
		}
		// The keys are set once, in New: no lock needed to read them.
		frame, err := ecsws.VerifyFrame(data, sessionURL, f.secretOf, f.region)
		if err != nil {
			f.violation(inst, "frame signature: "+err.Error())
			f.sendTCS(ws, &ecsws.Exception{Type: tcs.ExceptionAccessDenied, Message: err.Error()})
			return
		}
		msg, err := tcs.Decode(frame)
		if err != nil {
			f.violation(inst, err.Error())
			f.sendTCS(ws, &ecsws.Exception{Type: tcs.ExceptionBadRequest, Message: err.Error()})
			continue
		}
		if ack, problem := f.takeTCS(inst, msg); problem != "" {
			f.violation(inst, fmt.Sprintf("%s: %s", ecsws.TypeName(msg), problem))
			f.sendTCS(ws, &ecsws.Exception{Type: tcs.ExceptionBadRequest, Message: problem})
		} else if ack != nil {
			f.sendTCS(ws, ack)
		}
	}
}

func (f *Fake) violation(inst, what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tcs.violations = append(f.tcs.violations, inst+": "+what)
}

// takeTCS checks one request against TCS's rules and records it; it returns the ack to send, or
// what is wrong with it.
func (f *Fake) takeTCS(inst string, msg any) (ack any, problem string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := TCSRecord{Time: f.now().UTC(), Instance: inst}
	switch m := msg.(type) {
	case *tcs.PublishMetricsRequest:
		if problem = f.checkMetrics(inst, m); problem != "" {
			return nil, problem
		}
		rec.Metrics, ack = m, &tcs.AckPublishMetric{Message: m.Metadata.MessageID}
	case *tcs.PublishHealthRequest:
		switch {
		case m.Metadata == nil || m.Metadata.MessageID == "":
			return nil, "no metadata or messageId"
		case m.Metadata.ContainerInstance != inst:
			return nil, fmt.Sprintf("containerInstance %q is not the session's %q", m.Metadata.ContainerInstance, inst)
		case len(m.Tasks) > tcs.MaxTasksPerRequest:
			return nil, fmt.Sprintf("%d tasks, more than %d", len(m.Tasks), tcs.MaxTasksPerRequest)
		}
		rec.Health, ack = m, &tcs.AckPublishHealth{Message: m.Metadata.MessageID}
	case *tcs.PublishInstanceStatusRequest:
		if m.Metadata == nil || m.Metadata.RequestID == "" || m.Metadata.ContainerInstance != inst || len(m.Statuses) == 0 {
			return nil, "no metadata, requestId, statuses, or another instance's"
		}
		rec.Status, ack = m, &tcs.AckPublishInstanceStatus{Message: m.Metadata.RequestID}
	default:
		return nil, "not a request the agent sends"
	}
	f.tcs.records = append(f.tcs.records, rec)
	return ack, ""
}

// checkMetrics holds a metrics request to TCS's rules; callers hold f.mu.
func (f *Fake) checkMetrics(inst string, m *tcs.PublishMetricsRequest) string {
	md := m.Metadata
	switch {
	case md == nil || md.MessageID == "":
		return "no metadata or messageId"
	case md.ContainerInstance != inst:
		return fmt.Sprintf("containerInstance %q is not the session's %q", md.ContainerInstance, inst)
	case len(m.TaskMetrics) > tcs.MaxTasksPerRequest:
		return fmt.Sprintf("%d tasks, more than %d", len(m.TaskMetrics), tcs.MaxTasksPerRequest)
	case md.Idle && (len(m.TaskMetrics) > 0 || !md.Fin):
		return "idle with tasks or without fin"
	case md.MessageID == f.tcs.finished[inst]:
		return fmt.Sprintf("messageId %s after its cycle's fin", md.MessageID)
	case f.tcs.cycle[inst] != "" && f.tcs.cycle[inst] != md.MessageID:
		return fmt.Sprintf("cycle %s never sent fin before cycle %s", f.tcs.cycle[inst], md.MessageID)
	}
	for _, t := range m.TaskMetrics {
		for _, c := range t.ContainerMetrics {
			for name, s := range map[string]*tcs.StatsSet{"cpu": c.CPUStatsSet, "memory": c.MemoryStatsSet} {
				if s == nil {
					continue
				}
				n := float64(s.SampleCount)
				if s.SampleCount < 1 || s.Min > s.Max || s.Sum < s.Min*n*0.999 || s.Sum > s.Max*n*1.001 {
					return fmt.Sprintf("task %s container %s: incoherent %s set %+v", t.TaskArn, c.ContainerName, name, *s)
				}
			}
		}
	}
	f.tcs.cycle[inst] = md.MessageID
	if md.Fin {
		f.tcs.cycle[inst], f.tcs.finished[inst] = "", md.MessageID
	}
	return ""
}

// TCS returns what the fake's TCS side took.
func (f *Fake) TCS() TCSState {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := TCSState{Sessions: map[string]int{}, Records: append([]TCSRecord(nil), f.tcs.records...),
		Violations: append([]string{}, f.tcs.violations...)}
	for k, v := range f.tcs.opened {
		st.Sessions[k] = v
	}
	for k := range f.tcs.conns {
		st.Open = append(st.Open, k)
	}
	return st
}

// SetTCSRefusal makes TCS refuse every upgrade with the exception (tcs.Exception… names) and
// drops the open sessions; "" serves again.
func (f *Fake) SetTCSRefusal(exception string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tcs.refuse = exception
	if exception != "" {
		f.closeTCS()
	}
}

// closeTCS drops every open TCS session (Server.Stop); callers hold f.mu.
func (f *Fake) closeTCS() {
	for inst, ws := range f.tcs.conns {
		_ = ws.Close()
		delete(f.tcs.conns, inst)
	}
}

// isTCSPath tells the TCS upgrade path apart.
func isTCSPath(p string) bool { return strings.TrimPrefix(p, TCSPrefix) == "ws" }
