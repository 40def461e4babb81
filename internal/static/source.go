// Package static is the static task source: every *.json file in a
// directory is one ECS task definition (the JSON that
// `aws ecs register-task-definition --cli-input-json` takes), and the agent
// runs one task of it with no control plane, as the kubelet runs static
// pods.
//
// The source keeps one StaticTaskFile record per file: which content (by
// sha256) became which Task. A new file creates a task; a changed file stops
// the old task and creates a new one (the next revision); a removed file
// stops its task. An unchanged file does nothing when its task has stopped
// on its own (an essential container exited) or been cleaned up: such a
// task stays stopped, as an ECS task does, until its file changes. A task
// whose containers were lost to a host reboot or a Docker daemon restart is
// different: like the kubelet's static pods, it is replaced by a new task
// (the next revision) from the same file.
//
// Crash safety: a task carries its file's path, digest and revision as
// annotations, so a task created just before the agent died, with no record
// yet, is adopted on the next start instead of being created twice.
package static

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Annotations the source puts on the Task objects it makes.
const (
	// AnnotationPath is the absolute path of the task's file.
	AnnotationPath = "static.ecs.local/path"
	// AnnotationDigest is the sha256 (hex) of the file content the task
	// was made from.
	AnnotationDigest = "static.ecs.local/digest"
)

// Defaults for the Source's timings and identity.
const (
	DefaultRescan = 30 * time.Second
	DefaultSettle = 300 * time.Millisecond
	// eventCoalesce gathers the several events one write makes.
	eventCoalesce  = 20 * time.Millisecond
	DefaultCluster = "default" // ECS's default cluster name
	// DefaultRegion and DefaultAccount go into the ARNs of static tasks
	// (and of an offline container instance): no AWS region or account
	// has them.
	DefaultRegion  = "local"
	DefaultAccount = "000000000000"
)

// Source applies the task files of one directory to the store.
type Source struct {
	// Dir holds the task files (ECS_STATIC_TASKS_DIR). It is created if
	// missing; subdirectories and files whose names start with "." are
	// ignored.
	Dir   string
	Store store.Store
	// Cluster goes into the task ARNs ("default" when empty).
	Cluster string
	// Rescan is how often the whole directory is compared with the records,
	// a backstop for missed file events (DefaultRescan when 0).
	Rescan time.Duration
	// Settle is how long a file must be quiet after an event before it is
	// read, and how long unparseable content must stay the same before it
	// replaces a running task: a writer may not have finished
	// (DefaultSettle when 0).
	Settle time.Duration
	// Log is the source's logger; the context's when unset.
	Log logr.Logger
	// Boot is the host's current boot (ReadBoot). A static task made in an
	// earlier boot that was still running when the host went down is
	// replaced by a new task from its file. Zero: never.
	Boot Boot
	// DaemonOutages returns the times the Docker daemon was away while
	// the agent ran. A static task whose containers finished during one
	// (without live-restore the daemon stops them all) is replaced by a
	// new task from its file. Nil: never.
	DaemonOutages func() []Outage

	synced atomic.Bool
	scans  atomic.Int64 // completed full syncs, for tests
}

// Synced reports whether the first full sync of the directory has finished.
func (s *Source) Synced() bool { return s.synced.Load() }

// Run syncs the directory with the records, then follows file events and
// rescans periodically until ctx ends. It returns an error only when the
// Source is misconfigured; problems with files or the store are logged and
// retried, so that one bad file never stops the agent.
func (s *Source) Run(ctx context.Context) error {
	if s.Store == nil {
		return errors.New("static task source: no store")
	}
	if s.Dir == "" {
		return errors.New("static task source: no directory (ECS_STATIC_TASKS_DIR)")
	}
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return fmt.Errorf("static task source: directory %q: %w", s.Dir, err)
	}
	r := s.newRunner(ctx, dir)
	defer r.stopTimers()
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		r.log.Error(err, "cannot watch static task files; falling back to rescanning", "dir", dir, "every", r.rescan)
	} else {
		defer watcher.Close()
		r.watcher = watcher
	}
	r.ensureWatch()
	r.syncAll(ctx)
	s.synced.Store(true)
	r.log.Info("static task source started", "dir", dir, "rescan", r.rescan)
	return r.loop(ctx)
}

func (r *runner) loop(ctx context.Context) error {
	ticker := time.NewTicker(r.rescan)
	defer ticker.Stop()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if r.watcher != nil {
		events, errs = r.watcher.Events, r.watcher.Errors
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			r.handleEvent(ev)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// Typically an overflowed event queue: events were lost.
			r.log.Error(err, "static task file watch error; rescanning")
			r.schedule(fullSync, r.settle)
		case <-ticker.C:
			r.ensureWatch()
			r.syncAll(ctx)
		case key := <-r.due:
			delete(r.timers, key)
			if key == fullSync {
				r.syncAll(ctx)
			} else {
				r.syncPath(ctx, key)
			}
		}
	}
}

// handleEvent schedules a look at the file an event is about, once it has
// been quiet for the settle time.
func (r *runner) handleEvent(ev fsnotify.Event) {
	if ev.Name == r.dir {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			r.watched = false // the watch went with the directory
			r.schedule(fullSync, r.settle)
		}
		return
	}
	if filepath.Dir(ev.Name) != r.dir || ev.Op == fsnotify.Chmod {
		return
	}
	if isTaskFile(filepath.Base(ev.Name)) {
		// Content that parses is complete (a cut JSON object never
		// parses), so the first event of a burst is looked at at once: a
		// file renamed into place, the usual way to write one, makes no
		// other, and waiting would only delay its task. Later events of
		// the burst are gathered into one look at its end; content that
		// does not parse waits the settle time in syncPath.
		if _, pending := r.timers[ev.Name]; !pending && r.now().Sub(r.looked[ev.Name]) >= eventCoalesce {
			r.looked[ev.Name] = r.now()
			r.syncPath(r.ctx, ev.Name)
			return
		}
		r.schedule(ev.Name, min(r.settle, eventCoalesce))
		return
	}
	// Other names matter too: a symlink swap (..data, as Kubernetes
	// ConfigMap volumes do it) changes every file behind it at once.
	r.schedule(fullSync, r.settle)
}

// isTaskFile says which directory entries are task definitions: *.json,
// but not hidden files, which editors and atomic writers use as scratch.
func isTaskFile(name string) bool {
	return strings.HasSuffix(name, ".json") && !strings.HasPrefix(name, ".")
}

func (s *Source) newRunner(ctx context.Context, dir string) *runner {
	r := &runner{
		src:     s,
		dir:     dir,
		store:   s.Store,
		log:     s.Log,
		rescan:  s.Rescan,
		settle:  s.Settle,
		cluster: s.Cluster,
		now:     time.Now,
		ctx:     ctx,
		due:     make(chan string),
		timers:  map[string]*time.Timer{},
		looked:  map[string]time.Time{},
		seen:    map[string]observation{},
	}
	if r.log.GetSink() == nil {
		r.log = log.FromContext(ctx).WithName("static")
	}
	if r.rescan <= 0 {
		r.rescan = DefaultRescan
	}
	if r.settle <= 0 {
		r.settle = DefaultSettle
	}
	if r.cluster == "" {
		r.cluster = DefaultCluster
	}
	return r
}
