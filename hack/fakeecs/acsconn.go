package fakeecs

import (
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/gorilla/websocket"

	"github.com/ecs-agent/ecs-agent/internal/acs"
)

// acsConn is one open ACS session of an instance.
type acsConn struct {
	f               *Fake
	ws              *websocket.Conn
	instance        string
	opened          time.Time
	sendCredentials bool
	out             chan []byte
	done            chan struct{}
}

// open registers a new session for the instance (ending an older one), marks the instance
// connected, resends its unacked payloads and, when asked, every credentials of its tasks.
func (f *Fake) open(ws *websocket.Conn, ci *types.ContainerInstance, sendCredentials bool) {
	inst := deref(ci.ContainerInstanceArn)
	c := &acsConn{f: f, ws: ws, instance: inst, opened: f.now().UTC(), sendCredentials: sendCredentials,
		out: make(chan []byte, 4096), done: make(chan struct{})}
	f.mu.Lock()
	if old := f.acs.sessions[inst]; old != nil {
		_ = old.ws.Close()
	}
	f.acs.sessions[inst] = c
	f.acs.opened[inst]++
	ci.AgentConnected = true
	for _, m := range f.acs.pending[inst] {
		f.push(inst, m)
	}
	if sendCredentials {
		f.pushAllCredentials(ci)
	}
	f.mu.Unlock()
	go c.write()
	go c.read()
}

// pushAllCredentials sends the credentials of every task on the instance that is to run, as
// ACS does for a session opened with sendCredentials=true; callers hold f.mu.
func (f *Fake) pushAllCredentials(ci *types.ContainerInstance) {
	inst := deref(ci.ContainerInstanceArn)
	for _, arn := range f.taskSeq {
		t := f.tasks[arn]
		if deref(t.ContainerInstanceArn) != inst || deref(t.DesiredStatus) != "RUNNING" {
			continue
		}
		for _, rt := range []string{acs.RoleTypeTaskApplication, acs.RoleTypeTaskExecution} {
			if c, ok := f.acs.creds[arn+"|"+rt]; ok {
				f.push(inst, &acs.IAMRoleCredentialsMessage{MessageID: newUUID(), TaskArn: arn, TaskClusterArn: deref(t.ClusterArn),
					RoleType: rt, RoleCredentials: ptr(*c)})
			}
		}
	}
}

// write sends queued frames and a heartbeat every heartbeat interval.
func (c *acsConn) write() {
	tick := time.NewTicker(c.f.acs.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return
		case data := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
				_ = c.ws.Close()
				return
			}
		case <-tick.C:
			c.f.mu.Lock()
			c.f.push(c.instance, &acs.HeartbeatMessage{MessageID: newUUID(), Healthy: ptr(true)})
			c.f.mu.Unlock()
		}
	}
}

// read records and handles the agent's frames until the session ends, then marks the instance
// disconnected.
func (c *acsConn) read() {
	defer func() {
		close(c.done)
		_ = c.ws.Close()
		f := c.f
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.acs.sessions[c.instance] == c {
			delete(f.acs.sessions, c.instance)
			if ci := f.instances[c.instance]; ci != nil {
				ci.AgentConnected = false
			}
		}
	}()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		c.f.mu.Lock()
		c.f.recordFrame(c.instance, FrameIn, data)
		if msg, err := acs.Decode(data); err == nil {
			c.f.handleACS(c.instance, msg)
		}
		c.f.mu.Unlock()
	}
}

// close sends a close frame; the agent's answer (or its going away) ends the session.
func (c *acsConn) close(code int, text string) {
	body, _ := json.Marshal(map[string]any{"code": code, "text": text})
	c.f.mu.Lock()
	c.f.acs.frames = append(c.f.acs.frames, ACSFrame{Seq: len(c.f.acs.frames) + 1, Time: c.f.now().UTC(), Instance: c.instance,
		Direction: FrameOut, Type: "close", Message: body})
	c.f.mu.Unlock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(5*time.Second))
}

// handleACS acts on one frame from the agent; callers hold f.mu.
func (f *Fake) handleACS(instance string, msg any) {
	switch m := msg.(type) {
	case *acs.AckRequest:
		if f.acs.fault.DropAcks {
			return
		}
		kept := f.acs.pending[instance][:0]
		for _, p := range f.acs.pending[instance] {
			if p.MessageID != m.MessageID {
				kept = append(kept, p)
			}
		}
		f.acs.pending[instance] = kept
	case *acs.TaskStopVerificationMessage:
		// ECS confirms the candidates it does not want running.
		ack := &acs.TaskStopVerificationAck{MessageID: m.MessageID, GeneratedAt: ptr(f.now().Unix())}
		for _, cand := range m.StopCandidates {
			if t, ok := f.tasks[cand.TaskArn]; !ok || deref(t.DesiredStatus) != "RUNNING" {
				ack.StopTasks = append(ack.StopTasks, acs.TaskIdentifier{TaskArn: cand.TaskArn, TaskClusterArn: cand.TaskClusterArn, DesiredStatus: "STOPPED"})
			}
		}
		f.push(instance, ack)
	}
}
