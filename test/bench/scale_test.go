package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// scaleTasks is how many tasks the idle and restart figures (P3, P4) run.
const scaleTasks = 200

// idleWindow is how long the idle agent is watched.
const idleWindow = 60 * time.Second

// The start-up has settled when the agent has sent Docker no request but
// its events and stats streams for settleQuiet: its requests come at most
// a minute apart when idle (the relist), and in bursts while it starts.
// A daemon shared with other agents' task containers may never leave it
// that quiet, hence a deadline.
const (
	settleQuiet = 10 * time.Second
	settleLimit = 3 * time.Minute
)

// readyPoll is how often P4 asks /readyz: the harness's usual interval
// would round the ready time up by as much.
const readyPoll = 2 * time.Millisecond

// BenchmarkIdleAndRestart starts scaleTasks static tasks, then measures the
// idle agent over idleWindow (P3: CPU, RSS, and the Docker API requests it
// makes, counted by a proxy in front of the daemon), then kills it with
// SIGKILL and restarts it on the same store (P4: time until it is ready and
// its Docker calls settle, and that no container was restarted or created
// again). It runs once with the stats sampler (the default) and once
// without (ECS_DISABLE_METRICS=true).
func BenchmarkIdleAndRestart(b *testing.B) {
	for _, metrics := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", metrics), func(b *testing.B) {
			for range b.N {
				measureScale(b, metrics)
			}
		})
	}
}

func measureScale(b *testing.B, metrics bool) {
	b.StopTimer()
	proxy := startCountingProxy(b, false)
	a := h.New(b, h.Options{Env: []string{
		"DOCKER_HOST=" + proxy.host(),
		"ECS_DISABLE_METRICS=" + strconv.FormatBool(!metrics),
	}, ReadyPoll: readyPoll})
	a.Start()
	defer removeCluster(b, a.Cluster)
	for i := range scaleTasks {
		// networkMode none: 200 veths measure the host's bridge, not the
		// agent, and a shared bridge being rebuilt under the benchmark
		// fails their starts.
		def := h.Task(fmt.Sprintf("scale%03d", i), h.App("app", "sleep"))
		def.NetworkMode = "none"
		a.WriteTask(fmt.Sprintf("scale-%03d.json", i), def.JSON())
	}
	before := waitAllRunning(b, a, 10*time.Minute)
	// The idle window must not count the tail of the start-up (the
	// inspects of the last containers' events).
	if _, err := proxy.quietSince(time.Now(), settleQuiet, settleLimit); err != nil {
		b.Fatalf("P3, %d tasks: the start-up did not settle before the idle window: %v", scaleTasks, err)
	}

	pid := a.PID()
	cpu0, counts0, t0 := h.ProcessCPU(pid), proxy.snapshot(), time.Now()
	time.Sleep(idleWindow)
	cpu1, counts1, t1 := h.ProcessCPU(pid), proxy.snapshot(), time.Now()
	rss := rssMiB(pid)
	wall := t1.Sub(t0)
	perMin := func(kind string) float64 { return float64(counts1[kind]-counts0[kind]) / wall.Minutes() }
	cpuPct := 100 * float64(cpu1-cpu0) / float64(wall)
	b.ReportMetric(cpuPct, "idle-cpu-%core")
	b.ReportMetric(rss, "idle-rss-MiB")
	b.ReportMetric(perMin("list"), "lists/min")
	b.ReportMetric(perMin("inspect"), "inspects/min")
	b.ReportMetric(perMin("other"), "other-requests/min")
	fmt.Printf("P3 idle, %d tasks, metrics=%v (load average %s): agent CPU %.3f%% of a core, RSS %.1f MiB (%s); Docker API requests a minute: %s (over %s)\n",
		scaleTasks, metrics, loadAvg(), cpuPct, rss, rssParts(pid), perMinute(counts0, counts1, wall), wall.Round(time.Second))

	a.Kill()
	mark := proxy.snapshot()
	start := time.Now()
	a.Start() // returns once /readyz answers 200, asked every readyPoll
	ready := time.Since(start)
	after := waitAllRunning(b, a, time.Minute)
	settledAt, err := proxy.quietSince(start, 500*time.Millisecond, 30*time.Second)
	if err != nil {
		b.Errorf("P4: the Docker calls after the restart: %v", err)
	}
	settled := settledAt.Sub(start)
	restarted := 0
	for id, started := range before {
		if after[id] != started {
			restarted++
		}
	}
	b.ReportMetric(float64(ready.Milliseconds()), "restart-ready-ms")
	b.ReportMetric(float64(settled.Milliseconds()), "restart-settled-ms")
	b.ReportMetric(float64(restarted), "restarted")
	fmt.Printf("P4 kill -9 with %d tasks (load average %s): ready after %d ms, Docker calls settled after %d ms, %d of %d containers restarted or replaced; requests after the restart: %s\n",
		scaleTasks, loadAvg(), ready.Milliseconds(), settled.Milliseconds(), restarted, len(before), perMinute(mark, proxy.snapshot(), time.Minute))
	if restarted > 0 || len(after) != len(before) {
		b.Errorf("after kill -9 and restart: %d containers restarted, %d before and %d after; want none restarted", restarted, len(before), len(after))
	}
	a.Stop()
}

// waitAllRunning waits until /v1/tasks shows every scale task RUNNING and
// returns each container's Docker id with its start time.
func waitAllRunning(b *testing.B, a *h.Agent, timeout time.Duration) map[string]time.Time {
	b.Helper()
	a.WaitFor(b, fmt.Sprintf("%d tasks RUNNING", scaleTasks), timeout, func() (bool, string) {
		v1, err := a.V1Tasks()
		if err != nil {
			return false, err.Error()
		}
		n := 0
		for _, t := range v1.Tasks {
			if strings.HasPrefix(t.Family, "scale") && t.KnownStatus == "RUNNING" {
				n++
			}
		}
		return n >= scaleTasks, fmt.Sprintf("%d RUNNING", n)
	})
	ids, err := h.ClusterContainerIDs(a.Cluster)
	if err != nil {
		b.Fatal(err)
	}
	started := make(map[string]time.Time, len(ids))
	for _, id := range ids {
		c, ok, err := h.Inspect(id)
		if err != nil || !ok {
			b.Fatalf("inspect %s: %v %v", id, ok, err)
		}
		started[id] = c.State.StartedAt
	}
	return started
}

// rssParts is how a process's resident set divides: its own (anonymous)
// memory, and the file pages mapped in (the binary's code and read-only
// data, the store's file), which are shared with the page cache.
func rssParts(pid int) string {
	anon, file := statusMiB(pid, "RssAnon:"), statusMiB(pid, "RssFile:")
	return fmt.Sprintf("anonymous %.1f MiB, file-backed %.1f MiB", anon, file)
}

// rssMiB is a process's resident set size.
func rssMiB(pid int) float64 { return statusMiB(pid, "VmRSS:") }

// statusMiB is a kB field of /proc/<pid>/status, in MiB.
func statusMiB(pid int, field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func perMinute(from, to map[string]int64, wall time.Duration) string {
	var parts []string
	for _, k := range []string{"list", "images", "inspect", "events", "stats", "ping", "other"} {
		parts = append(parts, fmt.Sprintf("%s %.1f", k, float64(to[k]-from[k])/wall.Minutes()))
	}
	return strings.Join(parts, ", ")
}

// countingProxy is a unix-socket proxy in front of the Docker daemon that
// counts the agent's requests by kind and, when it records, keeps each
// request's times: that is where the benchmarks read Docker's share of a
// start or an exit, measured at the wire in the same run.
type countingProxy struct {
	path    string
	record  bool
	mu      sync.Mutex
	n       map[string]int64
	last    time.Time // of the last request other than events and stats
	lastReq string    // its method and path
	calls   []dockerCall
}

// dockerCall is one request through the proxy: from its arrival to the
// end of the daemon's answer passed back to the caller.
type dockerCall struct {
	Method, Path string
	// Name is the create's ?name=, the container's name.
	Name       string
	Start, End time.Time
}

func (c dockerCall) took() time.Duration { return c.End.Sub(c.Start) }

func startCountingProxy(b *testing.B, record bool) *countingProxy {
	b.Helper()
	p := &countingProxy{path: filepath.Join(b.TempDir(), "docker.sock"), n: map[string]int64{}, record: record}
	target := strings.TrimPrefix(os.Getenv("DOCKER_HOST"), "unix://")
	if target == "" {
		target = "/var/run/docker.sock"
	}
	lis, err := net.Listen("unix", p.path)
	if err != nil {
		b.Fatalf("proxy listen: %v", err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: "http", Host: "docker"}) },
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", target)
		}},
		FlushInterval: -1,
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		kind := p.count(r)
		rp.ServeHTTP(w, r)
		if p.record && kind != "events" && kind != "stats" {
			c := dockerCall{Method: r.Method, Path: r.URL.Path, Name: r.URL.Query().Get("name"), Start: start, End: time.Now()}
			p.mu.Lock()
			p.calls = append(p.calls, c)
			p.mu.Unlock()
		}
	})}
	go srv.Serve(lis)
	b.Cleanup(func() { srv.Close() })
	return p
}

func (p *countingProxy) host() string { return "unix://" + p.path }

func (p *countingProxy) count(r *http.Request) string {
	path := r.URL.Path
	kind := "other"
	switch {
	case strings.HasSuffix(path, "/containers/json"):
		kind = "list"
	case strings.HasSuffix(path, "/images/json"):
		kind = "images"
	case strings.HasSuffix(path, "/events"):
		kind = "events"
	case strings.HasSuffix(path, "/stats"):
		kind = "stats"
	case strings.HasSuffix(path, "/_ping"):
		kind = "ping"
	case r.Method == http.MethodGet && strings.Contains(path, "/containers/") && strings.HasSuffix(path, "/json"):
		kind = "inspect"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n[kind]++
	if kind != "events" && kind != "stats" {
		p.last, p.lastReq = time.Now(), r.Method+" "+path
	}
	return kind
}

// find returns, of the recorded calls that match accepts, the one that
// began first. Calls are recorded as they end, so the first recorded is
// only the first to finish.
func (p *countingProxy) find(match func(dockerCall) bool) (dockerCall, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first dockerCall
	found := false
	for _, c := range p.calls {
		if match(c) && (!found || c.Start.Before(first.Start)) {
			first, found = c, true
		}
	}
	return first, found
}

// busy is how much of [from, to] the calls that match spent in the
// daemon, counting time that calls overlap once.
func (p *countingProxy) busy(match func(dockerCall) bool, from, to time.Time) time.Duration {
	p.mu.Lock()
	var in []dockerCall
	for _, c := range p.calls {
		if match(c) && c.End.After(from) && c.Start.Before(to) {
			in = append(in, c)
		}
	}
	p.mu.Unlock()
	slices.SortFunc(in, func(a, b dockerCall) int { return a.Start.Compare(b.Start) })
	var total time.Duration
	var end time.Time
	for _, c := range in {
		s, e := maxTime(c.Start, from, end), minTime(c.End, to)
		if e.After(s) {
			total += e.Sub(s)
			end = e
		}
	}
	return total
}

func maxTime(ts ...time.Time) time.Time {
	m := ts[0]
	for _, t := range ts[1:] {
		if t.After(m) {
			m = t
		}
	}
	return m
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// createOf matches the create of the container named name.
func createOf(name string) func(dockerCall) bool {
	return func(c dockerCall) bool {
		return c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/containers/create") && c.Name == name
	}
}

// startOf matches a start of the container id.
func startOf(id string) func(dockerCall) bool {
	return func(c dockerCall) bool {
		return c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/containers/"+id+"/start")
	}
}

// inspectOf matches an inspect of the container id that began at or after
// since.
func inspectOf(id string, since time.Time) func(dockerCall) bool {
	return func(c dockerCall) bool {
		return c.Method == http.MethodGet && strings.HasSuffix(c.Path, "/containers/"+id+"/json") && !c.Start.Before(since)
	}
}

func (p *countingProxy) snapshot() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[string]int64, len(p.n))
	for k, v := range p.n {
		m[k] = v
	}
	return m
}

// quietSince waits until no request other than events and stats has come
// for quiet, and returns the time of the last such request. Events and
// stats requests are left out and a request counts as it arrives, so the
// long-lived streams (events; stats with metrics on) never keep it
// waiting. Past limit after start it returns the last request seen, with
// an error naming it.
func (p *countingProxy) quietSince(start time.Time, quiet, limit time.Duration) (time.Time, error) {
	for time.Since(start) < limit {
		p.mu.Lock()
		last := p.last
		p.mu.Unlock()
		if time.Since(last) >= quiet {
			return last, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last, fmt.Errorf("no pause of %s in the Docker requests other than events and stats within %s; the last: %s, %s ago",
		quiet, limit, p.lastReq, time.Since(p.last).Round(time.Millisecond))
}
