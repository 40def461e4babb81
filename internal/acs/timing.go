package acs

import (
	"time"

	"github.com/ecs-agent/ecs-agent/internal/ecsws"
)

// Session timers, with the values the ECS agent uses (protocols/ACS.md §2
// and §4; ecs-agent/acs/session/session.go and ecs-agent/wsclient).
const (
	// HandshakeTimeout bounds the dial, TLS and websocket handshake.
	HandshakeTimeout = ecsws.HandshakeTimeout
	// SilenceTimeout plus a random part of SilenceJitter is how long the
	// session may go without a data frame before the agent drops it
	// (without a close frame): ACS heartbeats come more often than that.
	SilenceTimeout = ecsws.SilenceTimeout
	SilenceJitter  = ecsws.SilenceJitter
	// WriteTimeout bounds each frame the agent sends.
	WriteTimeout = ecsws.WriteTimeout
	// MaxSessionAge, MaxSessionAgeJitter: see ecsws.
	MaxSessionAge       = ecsws.MaxSessionAge
	MaxSessionAgeJitter = ecsws.MaxSessionAgeJitter
	// CloseGrace is how long the agent waits for the server's close reply
	// after its own close frame before it drops the connection.
	CloseGrace = 5 * time.Second
	// BackoffMin, BackoffMultiplier, BackoffMax and BackoffJitter shape the
	// wait before reconnecting after a failed or abnormally closed session:
	// 250 ms, ×1.5 per failure, at most 2 min, plus up to 20 %.
	BackoffMin        = 250 * time.Millisecond
	BackoffMultiplier = 1.5
	BackoffMax        = 2 * time.Minute
	BackoffJitter     = 0.2
	// BackoffResetAfter plus a random part of BackoffResetJitter is how
	// long a session must have lasted for the next reconnect to start the
	// backoff afresh.
	BackoffResetAfter  = 60 * time.Second
	BackoffResetJitter = 60 * time.Second
)

// Timing holds a session's timers; the zero value of each field means its
// constant above. Tests shorten them.
type Timing struct {
	Handshake          time.Duration
	Silence            time.Duration
	SilenceJitter      time.Duration
	Write              time.Duration
	MaxAge             time.Duration
	MaxAgeJitter       time.Duration
	CloseGrace         time.Duration
	BackoffMin         time.Duration
	BackoffMax         time.Duration
	BackoffResetAfter  time.Duration
	BackoffResetJitter time.Duration
}

func (t Timing) withDefaults() Timing {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&t.Handshake, HandshakeTimeout)
	def(&t.Silence, SilenceTimeout)
	def(&t.SilenceJitter, SilenceJitter)
	def(&t.Write, WriteTimeout)
	def(&t.MaxAge, MaxSessionAge)
	def(&t.MaxAgeJitter, MaxSessionAgeJitter)
	def(&t.CloseGrace, CloseGrace)
	def(&t.BackoffMin, BackoffMin)
	def(&t.BackoffMax, BackoffMax)
	def(&t.BackoffResetAfter, BackoffResetAfter)
	def(&t.BackoffResetJitter, BackoffResetJitter)
	return t
}
