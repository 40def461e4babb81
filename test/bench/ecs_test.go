package bench

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/moby/moby/client"

	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// ecsTasks is how many tasks each ECS start scenario runs.
const ecsTasks = 50

// ecsPace spreads the paced arrivals over one default poll interval
// (controlplane.DefaultPollInterval, 10s), so that their phases against
// the poll cover a whole cycle, as independent RunTasks would.
const ecsPace = 10 * time.Second / ecsTasks

// ecsScenario is one agent run: offline (static files) or against the
// fake ECS endpoint with a poll interval.
type ecsScenario struct {
	name string
	// poll is ECS_POLL_INTERVAL; 0 means offline.
	poll time.Duration
	// acs lets the fake speak ACS: tasks are pushed and the poll is only
	// the backstop. Without it the fake has no ACS and the agent polls.
	acs bool
}

// ecsRow is one measured figure: per-task latencies over ecsTasks tasks.
type ecsRow struct {
	arrivals, scenario, measure string
	// unit names the figure in benchmark metrics (no spaces).
	unit string
	poll time.Duration
	lat  []time.Duration
	// offline is the offline row of the same arrivals, for the ratio.
	offline *ecsRow
}

// BenchmarkECSTaskStart measures, per task over 50 tasks of the cached
// test image, the time from RunTask on the fake ECS endpoint to the
// agent's SubmitTaskStateChange RUNNING arriving there (and, on the way,
// to RUNNING in the agent's store), beside the same tasks started offline
// as static task files (file written → RUNNING in the store). The ECS
// figure is dominated by ECS_POLL_INTERVAL when polling: it is measured at
// the default (10s) and at 1s; over ACS the task is pushed. Over ACS the
// StopTask → the stop begins (desired STOPPED in /v1/tasks) latency is
// measured too. Tasks arrive in a burst (back to back) and paced (one
// every 200ms, spread over one default poll interval).
func BenchmarkECSTaskStart(b *testing.B) {
	scenarios := []ecsScenario{
		{name: "offline"},
		{name: "ECS", poll: 10 * time.Second},
		{name: "ECS", poll: time.Second},
		{name: "ECS+ACS", poll: 10 * time.Second, acs: true},
	}
	var rows []*ecsRow
	for _, pace := range []time.Duration{0, ecsPace} {
		arrivals := "burst"
		if pace > 0 {
			arrivals = "one every " + pace.String()
		}
		var offline *ecsRow
		for _, sc := range scenarios {
			name := fmt.Sprintf("%s/%s", arrivals, sc.name)
			if sc.poll > 0 {
				name += "/poll=" + sc.poll.String()
			}
			b.Run(name, func(b *testing.B) {
				for range b.N {
					got := measureECSStart(b, sc, pace)
					for _, r := range got {
						r.arrivals = arrivals
						switch {
						case sc.poll == 0:
							offline = r
						case !strings.HasSuffix(r.unit, "-stop"):
							// A stop has no offline counterpart.
							r.offline = offline
						}
						b.ReportMetric(ms(percentile(r.lat, 50)), r.unit+"-p50-ms")
						b.ReportMetric(ms(percentile(r.lat, 99)), r.unit+"-p99-ms")
					}
					rows = append(rows, got...)
				}
			})
		}
	}
	printECSTable(rows)
}

// measureECSStart runs one agent for the scenario, starts ecsTasks tasks
// at the given pace and returns the per-task latencies it measured.
func measureECSStart(b *testing.B, sc ecsScenario, pace time.Duration) []*ecsRow {
	b.Helper()
	b.StopTimer()
	warmDocker(b)
	if sc.poll == 0 {
		a := h.Start(b, h.Options{})
		defer func() { a.Kill(); removeCluster(b, a.Cluster) }()
		lat := offlineStart(b, a, pace)
		return []*ecsRow{{scenario: "offline", measure: "file→RUNNING in store", unit: "offline", lat: lat}}
	}
	srv, err := fakeecs.Start("127.0.0.1:0", fakeecs.Options{NoACS: !sc.acs, Credentials: map[string]string{benchKey: benchSecret}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	a := h.New(b, h.Options{Env: ecsEnv(srv, sc.poll)})
	srv.CreateCluster(a.Cluster)
	a.Start() // ready once registered
	defer func() { a.Kill(); removeCluster(b, a.Cluster) }()
	unit := "ecs"
	if sc.acs {
		unit = "acs"
		testwait.For(b, "the agent's ACS session", 30*time.Second, pollEvery, func() (bool, string) {
			return len(srv.ACSSessions()) == 1, "no session open"
		})
	}
	inStore, reported, arns := ecsStart(b, a, srv, pace)
	rows := []*ecsRow{
		{scenario: sc.name, measure: "RunTask→RUNNING in store", unit: unit + "-store", poll: sc.poll, lat: inStore},
		{scenario: sc.name, measure: "RunTask→RUNNING reported", unit: unit + "-reported", poll: sc.poll, lat: reported},
	}
	if sc.acs {
		rows = append(rows, &ecsRow{scenario: sc.name, measure: "StopTask→stop begins", unit: unit + "-stop", poll: sc.poll,
			lat: ecsStop(b, a, srv, arns, pace)})
	}
	return rows
}

// The bench's keys: the fake checks them on the ACS upgrade only.
const (
	benchKey    = "AKIDBENCH"
	benchSecret = "bench"
)

func benchECSClient(srv *fakeecs.Server) *ecs.Client {
	return ecs.New(ecs.Options{
		Region:       srv.Region(),
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(benchKey, benchSecret, ""),
	})
}

// ecsStop calls StopTask on each task at the pace and returns, per task,
// the time from the call to the task desired STOPPED in /v1/tasks: the
// moment the task reconciler begins the stop.
func ecsStop(b *testing.B, a *h.Agent, srv *fakeecs.Server, arns []string, pace time.Duration) []time.Duration {
	b.Helper()
	api := benchECSClient(srv)
	w := watchStatus(a, func(t h.IntrospectionTask) bool { return t.DesiredStatus == "STOPPED" })
	defer w.stop()
	issued := map[string]time.Time{}
	b.StartTimer()
	start := time.Now()
	for i, arn := range arns {
		waitUntil(start.Add(time.Duration(i) * pace))
		issued[arn] = time.Now()
		if _, err := api.StopTask(context.Background(), &ecs.StopTaskInput{Cluster: aws.String(a.Cluster), Task: aws.String(arn)}); err != nil {
			b.Fatalf("StopTask %s: %v", arn, err)
		}
	}
	w.wait(b, issued, false)
	b.StopTimer()
	return w.latencies(issued, w.inStore)
}

// ecsEnv points an agent at the fake endpoint with the bench's keys and no
// instance metadata service.
func ecsEnv(srv *fakeecs.Server, poll time.Duration) []string {
	return []string{
		"ECS_OFFLINE=false",
		"ECS_BACKEND_HOST=" + srv.URL(),
		"AWS_DEFAULT_REGION=" + srv.Region(),
		"AWS_ACCESS_KEY_ID=" + benchKey,
		"AWS_SECRET_ACCESS_KEY=" + benchSecret,
		"AWS_EC2_METADATA_DISABLED=true",
		"ECS_POLL_INTERVAL=" + poll.String(),
	}
}

// warmDocker creates and removes one container so that no scenario pays
// for a cold first create.
func warmDocker(b *testing.B) {
	b.Helper()
	api, err := client.New(client.FromEnv)
	if err != nil {
		b.Fatal(err)
	}
	defer api.Close()
	warmWith(b, api, fmt.Sprintf("bench-warm-ecs-%d", time.Now().UnixNano()))
}

// warmWith creates, starts and removes one container of cluster through
// api, removing it even when its start fails.
func warmWith(b *testing.B, api *client.Client, cluster string) {
	b.Helper()
	_, err := rawStart(context.Background(), api, cluster, 1, 1)
	removeCluster(b, cluster)
	if err != nil {
		b.Fatalf("warm Docker up: %v", err)
	}
}

// offlineStart writes ecsTasks static task files at the pace and returns,
// per task, the time from its file being written to RUNNING in /v1/tasks.
func offlineStart(b *testing.B, a *h.Agent, pace time.Duration) []time.Duration {
	b.Helper()
	family := func(i int) string { return fmt.Sprintf("benchoff%02d", i) }
	w := watchRunning(a, nil, func(t h.IntrospectionTask) string { return t.Family })
	defer w.stop()
	issued := map[string]time.Time{}
	b.StartTimer()
	start := time.Now()
	for i := range ecsTasks {
		waitUntil(start.Add(time.Duration(i) * pace))
		def := h.Task(family(i), h.App("app", "sleep")).JSON()
		issued[family(i)] = time.Now()
		a.WriteTask(family(i)+".json", def)
	}
	w.wait(b, issued, false)
	b.StopTimer()
	return w.latencies(issued, w.inStore)
}

// ecsStart calls RunTask ecsTasks times at the pace and returns, per task,
// the time from its RunTask call to RUNNING in /v1/tasks and to the
// agent's SubmitTaskStateChange RUNNING reaching the endpoint, and the
// tasks' ARNs.
func ecsStart(b *testing.B, a *h.Agent, srv *fakeecs.Server, pace time.Duration) (inStore, reported []time.Duration, arns []string) {
	b.Helper()
	def := srv.RegisterTaskDefinition(&ecs.RegisterTaskDefinitionInput{
		Family: aws.String("benchecs"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(h.TestImage),
			Command: []string{"sleep"}, Memory: aws.Int32(memoryMiB),
		}},
	})
	api := benchECSClient(srv)
	w := watchRunning(a, srv, func(t h.IntrospectionTask) string { return t.Arn })
	defer w.stop()
	issued := map[string]time.Time{}
	ctx := context.Background()
	b.StartTimer()
	start := time.Now()
	for i := range ecsTasks {
		waitUntil(start.Add(time.Duration(i) * pace))
		at := time.Now()
		out, err := api.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(a.Cluster), TaskDefinition: def.TaskDefinitionArn})
		if err != nil {
			b.Fatalf("RunTask %d: %v", i, err)
		}
		if len(out.Tasks) != 1 {
			b.Fatalf("RunTask %d: %d tasks placed (failures %+v)", i, len(out.Tasks), out.Failures)
		}
		issued[aws.ToString(out.Tasks[0].TaskArn)] = at
		arns = append(arns, aws.ToString(out.Tasks[0].TaskArn))
	}
	w.wait(b, issued, true)
	b.StopTimer()
	return w.latencies(issued, w.inStore), w.latencies(issued, w.reported), arns
}

// runningWatch records when each task was first seen RUNNING in the
// agent's /v1/tasks and, against ECS, when its RUNNING task state change
// reached the endpoint (the endpoint's own receive time).
type runningWatch struct {
	done chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	inStore  map[string]time.Time
	reported map[string]time.Time
	lastErr  error
}

func watchRunning(a *h.Agent, srv *fakeecs.Server, key func(h.IntrospectionTask) string) *runningWatch {
	return watch(a, srv, key, func(t h.IntrospectionTask) bool { return t.KnownStatus == "RUNNING" })
}

// watchStatus records when each task (by ARN) first satisfied cond in
// /v1/tasks, in inStore.
func watchStatus(a *h.Agent, cond func(h.IntrospectionTask) bool) *runningWatch {
	return watch(a, nil, func(t h.IntrospectionTask) string { return t.Arn }, cond)
}

func watch(a *h.Agent, srv *fakeecs.Server, key func(h.IntrospectionTask) string, cond func(h.IntrospectionTask) bool) *runningWatch {
	w := &runningWatch{done: make(chan struct{}), inStore: map[string]time.Time{}, reported: map[string]time.Time{}}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			v1, err := a.V1Tasks()
			now := time.Now()
			w.mu.Lock()
			w.lastErr = err
			for _, t := range v1.Tasks {
				if k := key(t); k != "" && cond(t) && w.inStore[k].IsZero() {
					w.inStore[k] = now
				}
			}
			if srv != nil {
				for _, r := range srv.Reports() {
					if r.Action == fakeecs.ActionSubmitTaskStateChange && r.Status == "RUNNING" && w.reported[r.TaskARN].IsZero() {
						w.reported[r.TaskARN] = r.Received
					}
				}
			}
			w.mu.Unlock()
			select {
			case <-w.done:
				return
			case <-time.After(pollEvery):
			}
		}
	}()
	return w
}

// wait returns once every issued task is RUNNING in the store (and, with
// reports, reported RUNNING), failing the benchmark after a deadline.
func (w *runningWatch) wait(b *testing.B, issued map[string]time.Time, reports bool) {
	b.Helper()
	testwait.For(b, "every task RUNNING (and reported)", 3*time.Minute, pollEvery, func() (bool, string) {
		w.mu.Lock()
		defer w.mu.Unlock()
		missing := 0
		for k := range issued {
			if w.inStore[k].IsZero() || (reports && w.reported[k].IsZero()) {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d missing (last /v1/tasks error: %v)", missing, len(issued), w.lastErr)
	})
}

func (w *runningWatch) stop() {
	close(w.done)
	w.wg.Wait()
}

func (w *runningWatch) latencies(issued map[string]time.Time, seen map[string]time.Time) []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]time.Duration, 0, len(issued))
	for k, at := range issued {
		out = append(out, seen[k].Sub(at))
	}
	slices.Sort(out)
	return out
}

// waitUntil sleeps until t: the arrival schedule of paced tasks.
func waitUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
}

// percentile is the nearest-rank percentile of sorted latencies (p99 of
// 50 samples is the slowest one).
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[rankIndex(len(sorted), p)]
}

// rankIndex is the index in n sorted samples of the pth percentile, by
// nearest rank.
func rankIndex(n, p int) int {
	return max((p*n+99)/100, 1) - 1
}

// medianRound is the index in the unsorted samples of the one that
// percentile(sorted, 50) picks.
func medianRound(samples []time.Duration) int {
	idx := make([]int, len(samples))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(samples[a], samples[b]) })
	return idx[rankIndex(len(samples), 50)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func printECSTable(rows []*ecsRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Printf("\nECS task start: %d tasks of %s (cached), p50/p99 per task; ratio = ÷ offline of the same arrivals\n", ecsTasks, h.TestImage)
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "arrivals\tmode\tECS_POLL_INTERVAL\tmeasured\tp50 ms\tp99 ms\tratio p50\tratio p99")
	for _, r := range rows {
		poll, rp50, rp99 := "-", "-", "-"
		if r.poll > 0 {
			poll = r.poll.String()
		}
		p50, p99 := percentile(r.lat, 50), percentile(r.lat, 99)
		if o := r.offline; o != nil {
			rp50 = fmt.Sprintf("%.1f", float64(p50)/float64(max(percentile(o.lat, 50), 1)))
			rp99 = fmt.Sprintf("%.1f", float64(p99)/float64(max(percentile(o.lat, 99), 1)))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.0f\t%.0f\t%s\t%s\n", r.arrivals, r.scenario, poll, r.measure, ms(p50), ms(p99), rp50, rp99)
	}
	w.Flush()
	fmt.Printf("in store: first seen RUNNING in /v1/tasks (read every %s); reported: when SubmitTaskStateChange RUNNING reached the endpoint.\n", pollEvery)
	fmt.Println("ECS = the wait for the next poll (ECS_POLL_INTERVAL, each wait shortened at random by up to a fifth)" +
		" + starting everything that poll delivered, as one burst + the report.")
	fmt.Println("ECS+ACS = the task pushed over the ACS session (the poll is only a 5 min backstop) + the start + the report;" +
		" stop begins = desired STOPPED first seen in /v1/tasks after StopTask.")
}
