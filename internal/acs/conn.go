package acs

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ecs-agent/ecs-agent/internal/ecsws"
)

// closeExpired is the close text of a session the agent ends at its
// maximum age, as the ECS agent words it.
const closeExpired = "ConnectionExpired: Reconnect to continue"

// ending says why a session ended and whether to reconnect at once.
type ending struct {
	reason    string
	immediate bool
}

// conn is one open session.
type conn struct {
	s  *Session
	ws *websocket.Conn
	t  Timing

	writeMu sync.Mutex
	// manifest is the messageId of the last manifest accepted: only its
	// stop verification is honoured.
	manifest string
}

// serve reads frames until the session ends, handling each in turn.
func (s *Session) serve(ctx context.Context, ws *websocket.Conn, t Timing) ending {
	c := &conn{s: s, ws: ws, t: t}
	defer func() {
		_ = ws.Close()
		s.mu.Lock()
		s.status.Connected = false
		st := s.status
		s.mu.Unlock()
		metricConnected.Set(0)
		s.changed(st)
	}()

	// The reader blocks in ReadMessage; closing the socket is what ends it
	// when ctx ends or the session reaches its age.
	done := make(chan struct{})
	defer close(done)
	expired := make(chan struct{})
	go func() {
		age := time.NewTimer(ecsws.Jittered(t.MaxAge, t.MaxAgeJitter))
		defer age.Stop()
		select {
		case <-done:
		case <-ctx.Done():
			_ = ws.Close()
		case <-age.C:
			close(expired)
			c.closeExpired(done)
		}
	}()

	deadline := time.Now().Add(ecsws.Jittered(t.Silence, t.SilenceJitter))
	for {
		_ = ws.SetReadDeadline(deadline)
		kind, data, err := ws.ReadMessage()
		if err != nil {
			select {
			case <-expired:
				return ending{reason: "session reached its maximum age", immediate: true}
			default:
			}
			return c.ended(err)
		}
		if kind != websocket.TextMessage {
			continue
		}
		msg, err := Decode(data)
		if err != nil {
			// Unknown or malformed frames are dropped and are not activity:
			// they do not keep a silent session alive.
			s.Log.V(1).Info("ACS frame dropped", "error", err.Error())
			continue
		}
		deadline = time.Now().Add(ecsws.Jittered(t.Silence, t.SilenceJitter))
		c.received(msg)
		c.handle(ctx, msg)
	}
}

// ended classifies a read error: a normal close (1000, 1001) and the
// server's going away (1006 without a close frame, 1011) reconnect at once;
// silence and anything else back off.
func (c *conn) ended(err error) ending {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseAbnormalClosure, websocket.CloseInternalServerErr:
			return ending{reason: ce.Error(), immediate: true}
		}
		return ending{reason: ce.Error()}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ending{reason: "no message from ACS within the silence timeout"}
	}
	return ending{reason: err.Error()}
}

// closeExpired sends close 1000 and drops the socket if the server does
// not answer within CloseGrace.
func (c *conn) closeExpired(done <-chan struct{}) {
	c.writeMu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, closeExpired), time.Now().Add(c.t.Write))
	c.writeMu.Unlock()
	select {
	case <-done:
	case <-time.After(c.t.CloseGrace):
		_ = c.ws.Close()
	}
}

func (c *conn) received(msg any) {
	typ := TypeName(msg)
	metricMessages.WithLabelValues("received", typ).Inc()
	c.s.mu.Lock()
	c.s.status.LastMessageAt, c.s.status.LastMessageType = time.Now(), typ
	if _, ok := msg.(*HeartbeatMessage); ok {
		c.s.status.LastHeartbeatAt = c.s.status.LastMessageAt
	}
	st := c.s.status
	c.s.mu.Unlock()
	c.s.changed(st)
}

// send writes one frame under the write lock, with the write deadline.
func (c *conn) send(msg any) {
	data, err := Encode(msg)
	if err != nil {
		c.s.Log.Error(err, "ACS reply not sent")
		return
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.t.Write))
	if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
		// The reader sees the broken socket and ends the session.
		c.s.Log.V(1).Info("ACS reply not sent", "type", TypeName(msg), "error", err.Error())
		return
	}
	metricMessages.WithLabelValues("sent", TypeName(msg)).Inc()
}

// handle validates a message as the ECS agent does, lets the handler act
// on it, and sends the replies the handler's answer allows.
func (c *conn) handle(ctx context.Context, msg any) {
	log := c.s.Log
	h := c.s.Handler
	switch m := msg.(type) {
	case *HeartbeatMessage:
		if m.MessageID != "" {
			c.send(&HeartbeatAckRequest{MessageID: m.MessageID})
		}
	case *PayloadMessage:
		if m.MessageID == "" || m.ClusterArn == "" || m.ContainerInstanceArn == "" {
			log.Info("ACS payload without messageId, clusterArn or containerInstanceArn dropped", "messageId", m.MessageID)
			return
		}
		if err := h.Payload(ctx, m); err != nil {
			log.Error(err, "ACS payload not persisted; not acked, so ACS sends it again", "messageId", m.MessageID)
			return
		}
		c.send(&AckRequest{Cluster: m.ClusterArn, ContainerInstance: m.ContainerInstanceArn, MessageID: m.MessageID})
		for _, t := range m.Tasks {
			for _, rc := range []*IAMRoleCredentials{t.RoleCredentials, t.ExecutionRoleCredentials} {
				if rc != nil && rc.CredentialsID != "" {
					c.send(&IAMRoleCredentialsAckRequest{MessageID: m.MessageID, CredentialsID: rc.CredentialsID, Expiration: rc.Expiration})
				}
			}
		}
	case *IAMRoleCredentialsMessage:
		if m.MessageID == "" || m.TaskArn == "" || m.RoleCredentials == nil || m.RoleCredentials.CredentialsID == "" ||
			(m.RoleType != RoleTypeTaskApplication && m.RoleType != RoleTypeTaskExecution) {
			log.Info("ACS credentials message missing messageId, taskArn, credentialsId or a valid roleType dropped", "messageId", m.MessageID)
			return
		}
		if err := h.Credentials(ctx, m); err != nil {
			log.Info("ACS credentials not kept; not acked", "messageId", m.MessageID, "task", m.TaskArn, "error", err.Error())
			return
		}
		c.send(&IAMRoleCredentialsAckRequest{MessageID: m.MessageID, CredentialsID: m.RoleCredentials.CredentialsID, Expiration: m.RoleCredentials.Expiration})
	case *TaskManifestMessage:
		if m.MessageID == "" {
			return
		}
		candidates, accepted, err := h.Manifest(ctx, m)
		if err != nil || !accepted {
			log.V(1).Info("ACS task manifest not accepted", "messageId", m.MessageID, "error", errString(err))
			return
		}
		c.manifest = m.MessageID
		c.send(&AckRequest{Cluster: m.ClusterArn, ContainerInstance: m.ContainerInstanceArn, MessageID: m.MessageID})
		if len(candidates) > 0 {
			c.send(&TaskStopVerificationMessage{MessageID: m.MessageID, StopCandidates: candidates})
		}
	case *TaskStopVerificationAck:
		if m.MessageID == "" || m.MessageID != c.manifest {
			log.V(1).Info("ACS stop verification of another manifest dropped", "messageId", m.MessageID, "lastManifest", c.manifest)
			return
		}
		if err := h.StopVerified(ctx, m); err != nil {
			log.Error(err, "stop tasks ACS confirmed", "messageId", m.MessageID)
		}
	default:
		h.ServerMessage(ctx, msg)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
