package ecsws

import (
	"math/rand/v2"
	"time"
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
