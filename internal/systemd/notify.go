// Package systemd tells systemd how the agent is doing, over the service
// notification protocol (sd_notify(3), with github.com/coreos/go-systemd):
// READY=1 once the agent would answer /readyz, which is what a Type=notify
// unit's start waits for; WATCHDOG=1 pings while the reconcilers are
// healthy, so that WatchdogSec restarts an agent whose workers hang; STATUS=
// lines that `systemctl status` shows; STOPPING=1 on the way out.
//
// Outside systemd (no NOTIFY_SOCKET) it does nothing. NOTIFY_SOCKET and
// WATCHDOG_USEC are systemd's hand-over to this process rather than
// configuration, so they are read here, through go-systemd, and not by
// internal/config.
package systemd

import (
	"context"
	"fmt"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/go-logr/logr"
)

// Notifier reports readiness and health to systemd. Its zero value with
// Ready and Healthy set is ready to Run.
type Notifier struct {
	// Ready reports why the agent is not ready (nil when it is): the same
	// check /readyz answers with.
	Ready func() error
	// Healthy reports why the agent is not working (nil when it is); the
	// watchdog is pinged only while it is nil. A Docker daemon that is
	// away is not ill health: the agent waits for it and converges again.
	Healthy func() error
	// Log receives the transitions (ready, unhealthy, healthy again).
	Log logr.Logger
	// ReadyPoll is how often readiness is checked before READY=1 (default
	// 250ms).
	ReadyPoll time.Duration
}

// Run notifies systemd until ctx ends: READY=1 as soon as Ready is nil,
// then a watchdog ping every half WatchdogSec while Healthy is nil, then
// STOPPING=1. Before READY=1 the watchdog is pinged whatever Healthy says:
// the unit's TimeoutStartSec, not the watchdog, bounds the start. It
// returns at once, with nil, when the agent does not run under a
// Type=notify unit.
func (n *Notifier) Run(ctx context.Context) error {
	if ok, err := notify("STATUS=starting"); err != nil {
		return fmt.Errorf("notify systemd (NOTIFY_SOCKET): %w", err)
	} else if !ok {
		return nil
	}
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return fmt.Errorf("systemd watchdog (WATCHDOG_USEC): %w", err)
	}
	if interval > 0 {
		n.Log.Info("systemd watchdog enabled", "WatchdogSec", interval.String())
	}
	s := &session{n: n, interval: interval}
	defer s.send("STOPPING=1\nSTATUS=stopping; tasks keep running")

	poll := n.ReadyPoll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	if interval > 0 {
		poll = min(poll, interval/2)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		s.step()
		switch {
		case !s.ready:
			timer.Reset(poll)
		case interval > 0:
			// systemd's advice: ping at half the interval.
			timer.Reset(interval / 2)
		default:
			<-ctx.Done()
			return nil
		}
	}
}

// notify sends one state to NOTIFY_SOCKET; false means there is none.
func notify(state string) (bool, error) { return daemon.SdNotify(false, state) }

// session is the state of one Run.
type session struct {
	n        *Notifier
	interval time.Duration // WatchdogSec; 0 when there is no watchdog
	lastPing time.Time
	ready    bool
	unwell   string // the last health failure reported, "" when healthy
	waiting  string // the last readiness failure reported
}

// step does what is due: READY=1 once ready; a watchdog ping when one is
// due and allowed.
func (s *session) step() {
	if !s.ready {
		if err := s.n.Ready(); err != nil {
			if why := err.Error(); why != s.waiting {
				s.waiting = why
				s.send("STATUS=starting: " + why)
			}
		} else {
			s.ready = true
			s.send("READY=1\nSTATUS=ready")
			s.n.Log.Info("told systemd the agent is ready")
		}
	}
	if s.interval <= 0 || time.Since(s.lastPing) < s.interval/2 {
		return
	}
	if s.ready {
		if err := s.n.Healthy(); err != nil {
			if why := err.Error(); why != s.unwell {
				s.unwell = why
				s.n.Log.Info("unhealthy: not pinging the systemd watchdog, which restarts the agent unless this clears", "reason", why)
				s.send("STATUS=unhealthy: " + why)
			}
			return
		}
		if s.unwell != "" {
			s.unwell = ""
			s.n.Log.Info("healthy again: pinging the systemd watchdog")
			s.send("STATUS=ready")
		}
	}
	s.send("WATCHDOG=1")
	s.lastPing = time.Now()
}

func (s *session) send(state string) {
	if _, err := notify(state); err != nil {
		s.n.Log.Info("notify systemd", "state", state, "error", err.Error())
	}
}
