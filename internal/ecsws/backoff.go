package ecsws

import (
	"math/rand/v2"
	"time"
)

// Timers ACS and TCS sessions share, with the values the ECS agent uses
// (protocols/ACS.md §2, §4 and §5).
const (
	// HandshakeTimeout bounds the dial, TLS and websocket handshake.
	HandshakeTimeout = 30 * time.Second
	// SilenceTimeout plus a random part of SilenceJitter is how long a
	// session may go quiet before the agent leaves it (what counts as a
	// sign of life is the service's).
	SilenceTimeout = 60 * time.Second
	SilenceJitter  = 60 * time.Second
	// WriteTimeout bounds each frame the agent sends.
	WriteTimeout = 180 * time.Second
	// MaxSessionAge plus a random part of MaxSessionAgeJitter is how long a
	// session lives before the agent closes it (1000, "ConnectionExpired")
	// and opens a new one.
	MaxSessionAge       = 30 * time.Minute
	MaxSessionAgeJitter = 5 * time.Minute
)

// Jittered is d plus a random duration in [0, jitter).
func Jittered(d, jitter time.Duration) time.Duration {
	if jitter <= 0 {
		return d
	}
	return d + rand.N(jitter)
}

// Backoff is the wait before reconnecting: Min, growing by Multiplier per
// consecutive failure up to Max, each wait plus up to Jitter of itself, so
// that a fleet of agents does not reconnect in step.
type Backoff struct {
	Min, Max           time.Duration
	Multiplier, Jitter float64
	next               time.Duration
}

// Reset starts the next wait at Min again.
func (b *Backoff) Reset() { b.next = 0 }

// Wait returns the next wait and grows the one after.
func (b *Backoff) Wait() time.Duration {
	if b.next == 0 {
		b.next = b.Min
	}
	d := b.next
	b.next = min(time.Duration(float64(b.next)*b.Multiplier), b.Max)
	return d + time.Duration(rand.Float64()*b.Jitter*float64(d))
}
