package fakeecs

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/gorilla/websocket"

	"github.com/ecs-agent/ecs-agent/internal/acs"
	"github.com/ecs-agent/ecs-agent/internal/ecsws"
)

// The fake's ACS side: DiscoverPollEndpoint names the fake's own URL, GET /ws upgrades to a
// session once the SigV4 signature (for a key of Options.Credentials) and the query parameters
// check out, and from then on the fake pushes a PayloadMessage when it places or stops a task on
// the instance, sends heartbeats, resends unacked payloads on the next session, and records every
// frame either way. agentConnected is true exactly while a session is open.

// ACSPath is the path of the fake's ACS websocket.
const ACSPath = "/ws"

// noACSPath is what DiscoverPollEndpoint names when ACS is off: a path that answers 404, as an
// ECS-compatible endpoint without ACS (moto, LocalStack) would.
const noACSPath = "/no-acs/"

// DefaultHeartbeat is how often the fake sends HeartbeatMessage: well inside the agent's
// 60–120 s silence timeout.
const DefaultHeartbeat = 20 * time.Second

// Directions of recorded frames.
const (
	FrameIn  = "in"  // agent → fake
	FrameOut = "out" // fake → agent
)

// ACSFrame is one frame of an ACS session, as the fake sent or received it.
type ACSFrame struct {
	Seq       int             `json:"seq"`
	Time      time.Time       `json:"time"`
	Instance  string          `json:"instance"`
	Direction string          `json:"direction"`
	Type      string          `json:"type"`
	MessageID string          `json:"messageId,omitempty"`
	Message   json.RawMessage `json:"message"`
}

// ACSFault is how the fake misbehaves on ACS; the zero value is none.
type ACSFault struct {
	// DropAcks ignores the agent's AckRequests (they are still recorded): payloads stay unacked
	// and are sent again on the next session.
	DropAcks bool `json:"dropAcks,omitempty"`
	// Silent sends nothing at all (no heartbeats, no pushes) on open sessions.
	Silent bool `json:"silent,omitempty"`
	// Refuse answers every upgrade with this exception (acs.Exception… names).
	Refuse string `json:"refuse,omitempty"`
}

// ACSSession is an open session, as GET /_fake/acs shows it.
type ACSSession struct {
	Instance        string    `json:"instance"`
	Opened          time.Time `json:"opened"`
	SendCredentials bool      `json:"sendCredentials"`
}

// acsState is the fake's ACS side; it lives under f.mu.
type acsState struct {
	off       bool
	mute      bool   // pushTask sends nothing (LoseStop)
	endpoint  string // the fake's base URL
	heartbeat time.Duration
	keys      map[string]string // access key id → secret
	sessions  map[string]*acsConn
	opened    map[string]int // sessions ever opened, by instance
	pending   map[string][]*acs.PayloadMessage
	seq       map[string]int64
	creds     map[string]*acs.IAMRoleCredentials // by task ARN|role type
	frames    []ACSFrame
	fault     ACSFault
}

func newACSState(o Options) acsState {
	keys := map[string]string{DefaultAccessKeyID: DefaultSecretAccessKey}
	for k, v := range o.Credentials {
		keys[k] = v
	}
	hb := o.ACSHeartbeat
	if hb == 0 {
		hb = DefaultHeartbeat
	}
	return acsState{off: o.NoACS, heartbeat: hb, keys: keys, sessions: map[string]*acsConn{}, opened: map[string]int{},
		pending: map[string][]*acs.PayloadMessage{}, seq: map[string]int64{}, creds: map[string]*acs.IAMRoleCredentials{}}
}

// discoverEndpoint is DiscoverPollEndpoint's endpoint: the fake itself; callers hold f.mu.
func (f *Fake) discoverEndpoint() string {
	if f.acs.off {
		return f.acs.endpoint + noACSPath
	}
	return f.acs.endpoint + "/"
}

// setEndpoint records the fake's base URL (the Server's), which DiscoverPollEndpoint names.
func (f *Fake) setEndpoint(url string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acs.endpoint = url
}

// serveACS answers GET /ws: refuse as ECS would, or open a session.
func (f *Fake) serveACS(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ci, ex := f.admit(r)
	f.mu.Unlock()
	if ex != nil {
		refuseUpgrade(w, ex)
		return
	}
	up := websocket.Upgrader{HandshakeTimeout: 10 * time.Second}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.open(ws, ci, r.URL.Query().Get(acs.ParamSendCredentials) == "true")
}

// refuseUpgrade answers an upgrade with the exception, as ACS and TCS do: 403 for a bad
// signature, 500 for the server's own failure, 400 for the rest.
func refuseUpgrade(w http.ResponseWriter, ex *ecsws.Exception) {
	status := http.StatusBadRequest
	switch ex.Type {
	case acs.ExceptionAccessDenied:
		status = http.StatusForbidden
	case acs.ExceptionServer:
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(ecsws.EncodeRefusal(ex))
}

// admit checks an upgrade as ACS does: signature, parameters, cluster and instance; callers hold
// f.mu.
func (f *Fake) admit(r *http.Request) (*types.ContainerInstance, *acs.Exception) {
	refuse := func(typ, format string, args ...any) (*types.ContainerInstance, *acs.Exception) {
		return nil, &acs.Exception{Type: typ, Message: fmt.Sprintf(format, args...)}
	}
	if f.acs.fault.Refuse != "" {
		return refuse(f.acs.fault.Refuse, "refused by an injected fault")
	}
	if err := f.verify(r); err != nil {
		return refuse(acs.ExceptionAccessDenied, "%v", err)
	}
	q := r.URL.Query()
	for _, p := range []string{acs.ParamClusterArn, acs.ParamContainerInstanceArn, acs.ParamAgentVersion, acs.ParamSeqNum, acs.ParamSendCredentials} {
		if q.Get(p) == "" {
			return refuse(acs.ExceptionBadRequest, "missing query parameter %s", p)
		}
	}
	if _, err := strconv.ParseInt(q.Get(acs.ParamSeqNum), 10, 64); err != nil {
		return refuse(acs.ExceptionBadRequest, "seqNum %q is not a number", q.Get(acs.ParamSeqNum))
	}
	if _, err := strconv.ParseBool(q.Get(acs.ParamSendCredentials)); err != nil {
		return refuse(acs.ExceptionBadRequest, "sendCredentials %q is not a boolean", q.Get(acs.ParamSendCredentials))
	}
	if v := q.Get(acs.ParamProtocolVersion); v != "" {
		if _, err := strconv.Atoi(v); err != nil {
			return refuse(acs.ExceptionBadRequest, "protocolVersion %q is not a number", v)
		}
	}
	c, err := f.cluster(ptr(q.Get(acs.ParamClusterArn)))
	if err != nil {
		return refuse(acs.ExceptionInvalidCluster, "cluster %s not found", q.Get(acs.ParamClusterArn))
	}
	ci, ok := f.instance(c, q.Get(acs.ParamContainerInstanceArn))
	switch {
	case !ok || !inCluster(c, deref(ci.ContainerInstanceArn)):
		return refuse(acs.ExceptionInvalidInstance, "container instance %s not found in cluster %s", q.Get(acs.ParamContainerInstanceArn), deref(c.ClusterName))
	case deref(ci.Status) == "INACTIVE":
		return refuse(acs.ExceptionInactiveInstance, "container instance %s is inactive", deref(ci.ContainerInstanceArn))
	}
	return ci, nil
}

// verify checks the upgrade's SigV4 signature against the key it names.
func (f *Fake) verify(r *http.Request) error {
	return ecsws.Verify(r, f.secretOf, f.region)
}

// secretOf is the secret of an access key the fake accepts; callers hold f.mu.
func (f *Fake) secretOf(key string) (string, bool) {
	secret, ok := f.acs.keys[key]
	return secret, ok
}

// DefaultAccessKeyID and DefaultSecretAccessKey are keys the fake always accepts on ACS (the
// ECS API checks no signature at all).
const (
	DefaultAccessKeyID     = "AKIDFAKE"
	DefaultSecretAccessKey = "fake"
)

// SetACSFault replaces the ACS fault in force (the zero value clears it).
func (f *Fake) SetACSFault(ft ACSFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acs.fault = ft
}

// ACSFrames returns every frame recorded so far, oldest first.
func (f *Fake) ACSFrames() []ACSFrame {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ACSFrame(nil), f.acs.frames...)
}

// ACSSessions returns the open sessions.
func (f *Fake) ACSSessions() []ACSSession {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []ACSSession{}
	for _, arn := range f.instSeq {
		if c := f.acs.sessions[arn]; c != nil {
			out = append(out, ACSSession{Instance: arn, Opened: c.opened, SendCredentials: c.sendCredentials})
		}
	}
	return out
}

// ACSSessionsOpened counts the sessions an instance ever opened.
func (f *Fake) ACSSessionsOpened(instanceARN string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.acs.opened[instanceARN]
}

// PendingPayloads counts the payloads sent to an instance that it has not acked.
func (f *Fake) PendingPayloads(instanceARN string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.acs.pending[instanceARN])
}

// SendManifest sends the instance a TaskManifestMessage listing its tasks with their desired
// status; it returns the message id ("" when no session is open).
func (f *Fake) SendManifest(instanceARN string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.acs.sessions[instanceARN] == nil {
		return ""
	}
	ci := f.instances[instanceARN]
	clusterARN := f.instanceCluster(ci)
	m := &acs.TaskManifestMessage{MessageID: newUUID(), ClusterArn: clusterARN, ContainerInstanceArn: instanceARN,
		Timeline: ptr(f.nextSeq(instanceARN)), GeneratedAt: ptr(f.now().Unix())}
	for _, arn := range f.taskSeq {
		if t := f.tasks[arn]; deref(t.ContainerInstanceArn) == instanceARN && deref(t.LastStatus) != "STOPPED" {
			m.Tasks = append(m.Tasks, acs.TaskIdentifier{TaskArn: arn, TaskClusterArn: deref(t.ClusterArn), DesiredStatus: deref(t.DesiredStatus)})
		}
	}
	f.push(instanceARN, m)
	return m.MessageID
}

// RefreshCredentials sends new credentials (a new credentialsId) for one role of a task to the
// instance it runs on, and returns them; ok is false when the task has no such role.
func (f *Fake) RefreshCredentials(taskARN, roleType string) (acs.IAMRoleCredentials, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[taskARN]
	if !ok || roleTypeOK(roleType) != nil {
		return acs.IAMRoleCredentials{}, false
	}
	c := f.roleCredentials(taskARN, roleType, "", true)
	if c == nil {
		return acs.IAMRoleCredentials{}, false
	}
	f.push(deref(t.ContainerInstanceArn), &acs.IAMRoleCredentialsMessage{MessageID: newUUID(), TaskArn: taskARN,
		TaskClusterArn: deref(t.ClusterArn), RoleType: roleType, RoleCredentials: c})
	return *c, true
}

// LoseStop stops a task (as StopTask does) without pushing it, as when ACS loses the push: only a
// manifest, or a poll, tells the agent. False when there is no such task.
func (f *Fake) LoseStop(taskARN, reason string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[taskARN]
	if ok {
		f.acs.mute = true
		f.stopTask(t, reason, types.TaskStopCodeUserInitiated)
		f.acs.mute = false
	}
	return ok
}

// CloseACS closes the instance's session with a close frame of the code and text; false when
// none is open.
func (f *Fake) CloseACS(instanceARN string, code int, text string) bool {
	f.mu.Lock()
	c := f.acs.sessions[instanceARN]
	f.mu.Unlock()
	if c == nil {
		return false
	}
	c.close(code, text)
	return true
}

// closeACS ends every session, without a close frame (the listener going away).
func (f *Fake) closeACS() {
	f.mu.Lock()
	var open []*acsConn
	for _, c := range f.acs.sessions {
		open = append(open, c)
	}
	f.mu.Unlock()
	for _, c := range open {
		_ = c.ws.Close()
	}
}

// instanceCluster is the ARN of an instance's cluster; callers hold f.mu.
func (f *Fake) instanceCluster(ci *types.ContainerInstance) string {
	for _, c := range f.clusters {
		if inCluster(c, deref(ci.ContainerInstanceArn)) {
			return deref(c.ClusterArn)
		}
	}
	return ""
}

// nextSeq is the instance's next payload seqNum / manifest timeline; callers hold f.mu.
func (f *Fake) nextSeq(instanceARN string) int64 {
	f.acs.seq[instanceARN]++
	return f.acs.seq[instanceARN]
}

// pushTask sends a PayloadMessage with one task to the instance it is on, to be resent until
// acked; callers hold f.mu.
func (f *Fake) pushTask(t *types.Task) {
	if f.acs.off || f.acs.mute {
		return
	}
	inst := deref(t.ContainerInstanceArn)
	ci := f.instances[inst]
	if ci == nil {
		return
	}
	m := &acs.PayloadMessage{MessageID: newUUID(), ClusterArn: f.instanceCluster(ci), ContainerInstanceArn: inst,
		Tasks: []acs.Task{f.acsTask(t)}, SeqNum: ptr(f.nextSeq(inst)), GeneratedAt: ptr(f.now().Unix())}
	f.acs.pending[inst] = append(f.acs.pending[inst], m)
	f.push(inst, m)
}

// push sends a message on the instance's session, if one is open and the fake is not silent;
// callers hold f.mu. It never blocks: a session whose queue is full is dropped.
func (f *Fake) push(instanceARN string, msg any) {
	c := f.acs.sessions[instanceARN]
	if c == nil || f.acs.fault.Silent {
		return
	}
	data, err := acs.Encode(msg)
	if err != nil {
		return
	}
	f.recordFrame(instanceARN, FrameOut, data)
	select {
	case c.out <- data:
	default:
		_ = c.ws.Close()
	}
}

// recordFrame appends a frame; callers hold f.mu.
func (f *Fake) recordFrame(instanceARN, dir string, data []byte) {
	var fr struct {
		Type    string          `json:"type"`
		Message json.RawMessage `json:"message"`
	}
	_ = json.Unmarshal(data, &fr)
	var id struct {
		MessageID string `json:"messageId"`
	}
	_ = json.Unmarshal(fr.Message, &id)
	f.acs.frames = append(f.acs.frames, ACSFrame{Seq: len(f.acs.frames) + 1, Time: f.now().UTC(), Instance: instanceARN,
		Direction: dir, Type: fr.Type, MessageID: id.MessageID, Message: fr.Message})
}
