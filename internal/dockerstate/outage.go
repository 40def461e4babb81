package dockerstate

import (
	"sync"
	"time"
)

// maxOutages bounds the outages remembered: enough for the static source,
// which looks at tasks stopped since the agent started, without growing
// for a daemon that flaps all day.
const maxOutages = 16

// Outage is one time the daemon went away while this process followed it:
// Lost is when the connection broke, Back when a relist succeeded again.
// Without live-restore a daemon stops every container on its way down and
// after an unclean exit on its way up, so the containers it took with it
// finished within the outage (or within its shutdown timeout before Lost).
type Outage struct {
	Lost, Back time.Time
}

// outages records the daemon's outages; the zero value is ready.
type outages struct {
	mu     sync.Mutex
	lostAt time.Time
	past   []Outage
}

// lost notes that the connection broke at t, unless an outage is already
// open.
func (o *outages) lost(t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lostAt.IsZero() {
		o.lostAt = t
	}
}

// back closes the open outage, if any, at t.
func (o *outages) back(t time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lostAt.IsZero() {
		return
	}
	o.past = append(o.past, Outage{Lost: o.lostAt, Back: t})
	if len(o.past) > maxOutages {
		o.past = o.past[len(o.past)-maxOutages:]
	}
	o.lostAt = time.Time{}
}

// DownSince is when the connection to the daemon broke, in an outage that
// is still going on; zero while the daemon answers.
func (d *Docker) DownSince() time.Time {
	d.outages.mu.Lock()
	defer d.outages.mu.Unlock()
	return d.outages.lostAt
}

// Outages returns the daemon's outages since Run started, oldest first
// (the last maxOutages of them); one still going on is not included.
func (d *Docker) Outages() []Outage {
	d.outages.mu.Lock()
	defer d.outages.mu.Unlock()
	return append([]Outage(nil), d.outages.past...)
}
