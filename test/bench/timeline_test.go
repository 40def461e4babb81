package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// The marks a taskTimeline records: when a task's first store change of
// each kind reached a client of the agent's watch API.
const (
	markAdded   = "added"   // the Task object exists
	markIDs     = "ids"     // every container has its metadata id stored
	markNamed   = "named"   // every container has its Docker name stored
	markCreated = "created" // every container has a Docker id stored
	markRunning = "running" // the task is RUNNING
	markStopped = "stopped" // the task is STOPPED
)

// taskTimeline follows /agent/v1/tasks?watch=true and records, per task,
// when each mark was first seen. A watch is pushed each commit, so unlike a
// poll it neither adds a poll interval to the figures nor loads the agent
// with reads while it works.
type taskTimeline struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	marks  map[string]map[string]time.Time // task name → mark → first seen
	last   map[string]apiv1.Task           // task name → as last seen
	byKey  map[string]string               // family and ARN → task name
	imgUse map[string]time.Time            // task name → its request first seen in an Image
	err    error
}

// followTasks opens the task and image watches of a's API.
func followTasks(tb testing.TB, a *h.Agent) *taskTimeline {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tl := &taskTimeline{
		cancel: cancel, done: make(chan struct{}),
		marks: map[string]map[string]time.Time{}, last: map[string]apiv1.Task{},
		byKey: map[string]string{}, imgUse: map[string]time.Time{},
	}
	tasks, err := openWatch(ctx, a, "tasks")
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	images, err := openWatch(ctx, a, "images")
	if err != nil {
		cancel()
		tasks.Body.Close()
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); readWatch(tl, tasks, tl.task) }()
	go func() { defer wg.Done(); readWatch(tl, images, tl.image) }()
	go func() { wg.Wait(); close(tl.done) }()
	tb.Cleanup(tl.stop)
	return tl
}

func openWatch(ctx context.Context, a *h.Agent, resource string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL("/agent/v1/"+resource+"?watch=true"), nil)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", resource, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", resource, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("watch %s: %s", resource, resp.Status)
	}
	return resp, nil
}

func (tl *taskTimeline) stop() {
	tl.cancel()
	<-tl.done
}

// readWatch decodes each object of a watch stream and hands it to handle,
// with the time it arrived, under tl's lock.
func readWatch[T any](tl *taskTimeline, resp *http.Response, handle func(*T, time.Time)) {
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 1<<16), 16<<20)
	for sc.Scan() {
		at := time.Now()
		var ev struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			tl.fail(fmt.Errorf("watch line: %w", err))
			return
		}
		if ev.Type == "ERROR" {
			tl.fail(fmt.Errorf("watch ended by the agent: %s", ev.Object))
			return
		}
		var obj T
		if err := json.Unmarshal(ev.Object, &obj); err != nil {
			tl.fail(fmt.Errorf("watched object: %w", err))
			return
		}
		tl.mu.Lock()
		handle(&obj, at)
		tl.mu.Unlock()
	}
	if err := sc.Err(); err != nil && !strings.Contains(err.Error(), "context canceled") {
		tl.fail(fmt.Errorf("watch: %w", err))
	}
}

func (tl *taskTimeline) fail(err error) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.err == nil {
		tl.err = err
	}
}

func (tl *taskTimeline) task(t *apiv1.Task, at time.Time) {
	tl.last[t.Name] = *t
	tl.byKey[t.Spec.Family] = t.Name
	tl.byKey[t.Spec.Arn] = t.Name
	m := tl.marks[t.Name]
	if m == nil {
		m = map[string]time.Time{}
		tl.marks[t.Name] = m
	}
	mark := func(name string, ok bool) {
		if ok && m[name].IsZero() {
			m[name] = at
		}
	}
	all := func(f func(apiv1.ContainerStatus) bool) bool {
		if len(t.Status.Containers) == 0 {
			return false
		}
		for _, cs := range t.Status.Containers {
			if !f(cs) {
				return false
			}
		}
		return true
	}
	mark(markAdded, true)
	mark(markIDs, all(func(cs apiv1.ContainerStatus) bool { return cs.MetadataID != "" }))
	mark(markNamed, all(func(cs apiv1.ContainerStatus) bool { return cs.DockerName != "" }))
	mark(markCreated, all(func(cs apiv1.ContainerStatus) bool { return cs.DockerID != "" }))
	mark(markRunning, t.Status.KnownStatus == apiv1.StatusRunning)
	mark(markStopped, t.Status.KnownStatus == apiv1.StatusStopped)
}

func (tl *taskTimeline) image(img *apiv1.Image, at time.Time) {
	for _, r := range img.Spec.Requests {
		if tl.imgUse[r.Task].IsZero() {
			tl.imgUse[r.Task] = at
		}
	}
}

// await waits until the task with this family or ARN has the mark, and
// returns the task as last seen with its marks.
func (tl *taskTimeline) await(tb testing.TB, key, mark string, timeout time.Duration) (apiv1.Task, map[string]time.Time) {
	tb.Helper()
	var task apiv1.Task
	var marks map[string]time.Time
	// The condition reads memory only: a tight interval costs the agent
	// nothing.
	testwait.For(tb, key+" "+mark+" in the store", timeout, time.Millisecond, func() (bool, string) {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		if tl.err != nil {
			tb.Fatal(tl.err)
		}
		name := tl.byKey[key]
		if tl.marks[name][mark].IsZero() {
			return false, fmt.Sprintf("marks so far: %v", tl.marks[name])
		}
		task, marks = tl.last[name], maps(tl.marks[name])
		if at := tl.imgUse[name]; !at.IsZero() {
			marks["image"] = at
		}
		return true, ""
	})
	return task, marks
}

// count is how many tasks whose family starts with prefix have the mark,
// and when the last of them got it; an error if the watch failed.
func (tl *taskTimeline) count(prefix, mark string) (int, time.Time, error) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.err != nil {
		return 0, time.Time{}, tl.err
	}
	n, last := 0, time.Time{}
	for name, m := range tl.marks {
		if at := m[mark]; !at.IsZero() && strings.HasPrefix(tl.last[name].Spec.Family, prefix) {
			n++
			if at.After(last) {
				last = at
			}
		}
	}
	return n, last, nil
}

func maps(m map[string]time.Time) map[string]time.Time {
	out := make(map[string]time.Time, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// span is one named part of a timeline, with whose time it is.
type span struct {
	name   string
	docker bool
	d      time.Duration
}

// spanStats gathers the same spans over rounds and prints their medians.
type spanStats struct {
	order []string
	isDoc map[string]bool
	vals  map[string][]time.Duration
}

func newSpanStats() *spanStats {
	return &spanStats{isDoc: map[string]bool{}, vals: map[string][]time.Duration{}}
}

func (s *spanStats) add(spans []span) {
	for _, sp := range spans {
		if _, ok := s.vals[sp.name]; !ok {
			s.order = append(s.order, sp.name)
		}
		s.isDoc[sp.name] = sp.docker
		s.vals[sp.name] = append(s.vals[sp.name], sp.d)
	}
}

func (s *spanStats) pct(name string, p int) time.Duration {
	v := slices.Clone(s.vals[name])
	slices.Sort(v)
	return percentile(v, p)
}

// line is "name p50/p99 ms (whose)" for every span, in timeline order.
func (s *spanStats) line() string {
	var parts []string
	for _, name := range s.order {
		who := "agent"
		if s.isDoc[name] {
			who = "Docker"
		}
		parts = append(parts, fmt.Sprintf("%s %.1f/%.1f (%s)", name, ms(s.pct(name, 50)), ms(s.pct(name, 99)), who))
	}
	return strings.Join(parts, " | ")
}

// sumSplit adds up one round's spans into Docker's time and the agent's.
func sumSplit(spans []span) (docker, agent time.Duration) {
	for _, sp := range spans {
		if sp.docker {
			docker += sp.d
		} else {
			agent += sp.d
		}
	}
	return docker, agent
}

// loadAvg is the host's load average (1, 5 and 15 minutes), printed beside
// every figure: on a shared machine it says how much of a figure is the
// host's load.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
