package static

import (
	"context"
	"os"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-logr/logr"

	"github.com/ecs-agent/ecs-agent/internal/store"
)

// fullSync is the timer key of a whole-directory sync; file keys are paths,
// which are absolute, so they never collide with it.
const fullSync = ""

// retryDelay is how soon a file whose sync failed (a store error) is tried
// again, ahead of the next rescan.
const retryDelay = 2 * time.Second

// runner is one Run of a Source: everything here is used by the Run
// goroutine only, except that timers send on due.
type runner struct {
	src     *Source
	dir     string
	store   store.Store
	log     logr.Logger
	rescan  time.Duration
	settle  time.Duration
	cluster string
	now     func() time.Time

	ctx     context.Context
	watcher *fsnotify.Watcher
	watched bool
	// dirErr is the last reason the directory could not be watched, so it
	// is logged once rather than at every rescan.
	dirErr string

	due    chan string
	timers map[string]*time.Timer
	// looked is when a file was last looked at on the first event of a
	// burst: events within eventCoalesce of it wait for the burst's end.
	looked map[string]time.Time
	// seen is when each file's current content was first read while it
	// could not be parsed: such content replaces a task only once it has
	// stayed the same for the settle time.
	seen map[string]observation

	// A full sync every rescan must cost next to nothing when nothing
	// changed (200 files is 200 task reads and a list of every task
	// otherwise, most of an idle agent's CPU). These say what it may skip.
	//
	// swept: the last orphan sweep succeeded. changed: an apply since
	// then did more than look (made, stopped or replaced a task, or
	// failed), so an orphan may have appeared. Only this runner makes
	// static tasks and their records, so with neither, there is none.
	swept, changed bool
	// lostLooked: a full sync has looked at every file's task for one lost
	// to a reboot; a task of this boot can only be lost in a daemon outage
	// after that.
	lostLooked bool
}

type observation struct {
	digest string
	since  time.Time
}

// schedule makes the loop sync key (a path, or fullSync) after d, pushing
// back a sync already scheduled: a file being written produces a burst of
// events and is read once, after the burst.
func (r *runner) schedule(key string, d time.Duration) {
	if t, ok := r.timers[key]; ok {
		t.Reset(d)
		return
	}
	r.timers[key] = time.AfterFunc(d, func() {
		select {
		case r.due <- key:
		case <-r.ctx.Done():
		}
	})
}

func (r *runner) stopTimers() {
	for _, t := range r.timers {
		t.Stop()
	}
}

// ensureWatch creates the directory if needed and watches it. Failures are
// logged once each; the periodic rescan keeps the source working without
// events, and tries again.
func (r *runner) ensureWatch() {
	if r.watched || r.watcher == nil {
		return
	}
	fail := func(what string, err error) {
		if msg := what + ": " + err.Error(); msg != r.dirErr {
			r.dirErr = msg
			r.log.Error(err, "static task directory: "+what+"; rescanning instead", "dir", r.dir, "every", r.rescan)
		}
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		fail("cannot create it", err)
		return
	}
	if err := r.watcher.Add(r.dir); err != nil {
		fail("cannot watch it", err)
		return
	}
	r.watched, r.dirErr = true, ""
}
