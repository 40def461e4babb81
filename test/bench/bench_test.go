package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

func TestMain(m *testing.M) {
	// Build lazily: `go test ./test/...` without -bench must not pay for
	// the binary and the image.
	os.Exit(h.Main(m, false))
}

// pollEvery is how often /v1/tasks is read while waiting for RUNNING.
const pollEvery = 25 * time.Millisecond

// memoryMiB is each container's memory limit, in the task definition and
// in the raw create alike.
const memoryMiB = 64

// row is one line of the printed table.
type row struct {
	scenario    string
	agent, raw  time.Duration
	concurrency int
}

// BenchmarkTaskStart measures how long the agent takes from static task
// files appearing to every task RUNNING in its store, beside raw Docker
// create+start of the same containers at the agent's concurrency.
func BenchmarkTaskStart(b *testing.B) {
	var rows []row
	b.Run("tasks=1/p50", func(b *testing.B) {
		for range b.N {
			r := measureSingle(b, singleRounds)
			rows = append(rows, r)
			b.ReportMetric(float64(r.agent.Microseconds())/1000, "agent-p50-ms")
			b.ReportMetric(float64(r.raw.Microseconds())/1000, "docker-p50-ms")
			b.ReportMetric(ratio(r), "agent/docker")
		}
	})
	for _, n := range []int{50, 100} {
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			for range b.N {
				r := measure(b, n)
				rows = append(rows, r)
				b.ReportMetric(float64(r.agent.Milliseconds()), "agent-ms")
				b.ReportMetric(float64(r.raw.Milliseconds()), "docker-ms")
				b.ReportMetric(ratio(r), "agent/docker")
			}
		})
	}
	printTable(rows)
}

func measure(b *testing.B, n int) row {
	b.Helper()
	api, err := client.New(client.FromEnv)
	if err != nil {
		b.Fatalf("docker client: %v", err)
	}
	defer api.Close()
	// The agent's task workers: max(8, 4×cores), as internal/agent sets them.
	conc := min(n, max(8, 4*runtime.NumCPU()))

	b.StopTimer()
	load0 := loadAvg()
	defer func() { fmt.Printf("P2 %d tasks: load average %s → %s\n", n, load0, loadAvg()) }()
	a := h.Start(b, h.Options{})
	// Warm Docker up so that neither side pays for a cold first create.
	warmWith(b, api, "bench-warm-"+a.Cluster)

	agentTook := agentStart(b, a, n)
	a.Kill()
	removeCluster(b, a.Cluster)

	rawCluster := "bench-raw-" + a.Cluster
	defer removeCluster(b, rawCluster)
	rawTook, err := rawStart(context.Background(), api, rawCluster, n, conc)
	if err != nil {
		b.Fatal(err)
	}
	return row{scenario: fmt.Sprintf("%d task(s), sleep, bridge", n), agent: agentTook, raw: rawTook, concurrency: conc}
}

// singleRounds is how many single tasks P1's p50 is taken over.
const singleRounds = 11

// measureSingle times one task file → RUNNING in the store and one raw
// create+start, alternately, rounds times on one agent, and returns the
// medians. Both talk to Docker through the same recording proxy, so each
// round is split into Docker's part (the create and start requests, from
// their arrival at the proxy to the end of the daemon's answer) and the
// rest: the agent's own steps, timed by its store watch (the tasks and
// images watches of its API, which see each commit as it happens).
func measureSingle(b *testing.B, rounds int) row {
	b.Helper()
	b.StopTimer()
	load0 := loadAvg()
	proxy := startCountingProxy(b, true)
	api, err := client.New(client.FromEnv, client.WithHost(proxy.host()))
	if err != nil {
		b.Fatalf("docker client: %v", err)
	}
	defer api.Close()
	a := h.Start(b, h.Options{Env: []string{"DOCKER_HOST=" + proxy.host()}})
	defer removeCluster(b, a.Cluster)
	tl := followTasks(b, a)
	rawCluster := "bench-raw1-" + a.Cluster
	warmWith(b, api, rawCluster+"-warm")
	var agent, raw, agentDocker, agentOwn, rawDocker []time.Duration
	agentSteps, rawSteps := newSpanStats(), newSpanStats()
	for i := range rounds {
		family := fmt.Sprintf("single%02d", i)
		def := h.Task(family, h.App("app", "sleep")).JSON()
		written := time.Now()
		a.WriteTask(family+".json", def)
		task, marks := tl.await(b, family, markRunning, time.Minute)
		spans := agentSpans(b, proxy, written, task, marks)
		agent = append(agent, marks[markRunning].Sub(written))
		d, own := sumSplit(spans)
		agentDocker, agentOwn = append(agentDocker, d), append(agentOwn, own)
		agentSteps.add(spans)

		rc := fmt.Sprintf("%s-%02d", rawCluster, i)
		rawBegin := time.Now()
		id, err := createStartOne(context.Background(), api, rc)
		rawEnd := time.Now()
		removeCluster(b, rc)
		if err != nil {
			b.Fatal(err)
		}
		spans = rawSpans(b, proxy, rc+"-00", id, rawBegin, rawEnd)
		raw = append(raw, rawEnd.Sub(rawBegin))
		d, _ = sumSplit(spans)
		rawDocker = append(rawDocker, d)
		rawSteps.add(spans)
	}
	// The medians of the parts may come from different rounds and need not
	// add up; the median round's own parts do.
	am, rm := medianRound(agent), medianRound(raw)
	split := fmt.Sprintf("agent %.1f ms (round %d) = Docker's calls (create, start, the inspects it waits for) %.1f ms + the agent's own %.1f ms; raw %.1f ms (round %d) of which Docker's create+start %.1f ms",
		ms(agent[am]), am, ms(agentDocker[am]), ms(agentOwn[am]), ms(raw[rm]), rm, ms(rawDocker[rm]))
	for _, s := range [][]time.Duration{agent, raw, agentDocker, agentOwn, rawDocker} {
		slices.Sort(s)
	}
	load1 := loadAvg()
	p50 := func(s []time.Duration) float64 { return ms(percentile(s, 50)) }
	b.ReportMetric(p50(agentDocker), "agent-docker-part-p50-ms")
	b.ReportMetric(p50(agentOwn), "agent-own-part-p50-ms")
	b.ReportMetric(p50(rawDocker), "raw-docker-part-p50-ms")
	fmt.Printf("P1 one task file → RUNNING in the store, %d rounds (load average %s → %s): agent %v; raw create+start %v\n", rounds, load0, load1, agent, raw)
	fmt.Printf("P1 split of the median round of each side (its total is the p50): %s\n", split)
	fmt.Printf("P1 p50 of each part on its own (from different rounds, so they need not add up): agent's Docker calls %.1f ms, the agent's own %.1f ms, raw Docker's create+start %.1f ms\n",
		p50(agentDocker), p50(agentOwn), p50(rawDocker))
	fmt.Printf("P1 agent steps, p50/p99 ms: %s\n", agentSteps.line())
	fmt.Printf("P1 raw steps, p50/p99 ms: %s\n", rawSteps.line())
	return row{scenario: fmt.Sprintf("1 task, sleep, bridge (p50 of %d)", rounds), agent: percentile(agent, 50), raw: percentile(raw, 50), concurrency: 1}
}

// agentSpans splits one task start, from its file being written to RUNNING
// in the store, at the store marks and the Docker calls of its container.
// The spans follow one another, so they add up to the whole; a store mark
// that the watch delivered after the next Docker call began shows as a
// negative span, never as lost time.
func agentSpans(b *testing.B, proxy *countingProxy, written time.Time, task apiv1.Task, marks map[string]time.Time) []span {
	b.Helper()
	if len(task.Status.Containers) != 1 {
		b.Fatalf("task %s has %d containers, want 1", task.Name, len(task.Status.Containers))
	}
	cs := task.Status.Containers[0]
	create, ok := proxy.find(createOf(cs.DockerName))
	if !ok {
		b.Fatalf("no create of %s through the proxy", cs.DockerName)
	}
	start, ok := proxy.find(startOf(cs.DockerID))
	if !ok {
		b.Fatalf("no start of %s through the proxy", cs.DockerID)
	}
	points := []struct {
		name string
		at   time.Time
	}{
		{"file → Task stored", marks[markAdded]},
		{"→ metadata ids stored", marks[markIDs]},
		{"→ Docker name stored", marks[markNamed]},
		{"→ image use stored", marks["image"]},
		{"→ create sent", create.Start},
	}
	var spans []span
	prev := written
	for _, p := range points {
		if p.at.IsZero() {
			continue
		}
		spans = append(spans, span{name: p.name, d: p.at.Sub(prev)})
		prev = p.at
	}
	// The inspects of the container between the create's answer and the
	// start, and after the start, are Docker calls the agent waits for.
	afterCreate := proxy.busy(inspectOf(cs.DockerID, create.End), create.End, start.Start)
	afterStart := proxy.busy(inspectOf(cs.DockerID, start.End), start.End, marks[markRunning])
	return append(spans,
		span{name: "create", docker: true, d: create.took()},
		span{name: "inspect after create", docker: true, d: afterCreate},
		span{name: "→ start sent", d: start.Start.Sub(create.End) - afterCreate},
		span{name: "start", docker: true, d: start.took()},
		span{name: "inspect after start", docker: true, d: afterStart},
		span{name: "→ RUNNING stored", d: marks[markRunning].Sub(start.End) - afterStart},
	)
}

// rawSpans splits one raw create+start the same way; the parts that are not
// Docker's are the benchmark's own client.
func rawSpans(b *testing.B, proxy *countingProxy, name, id string, begin, end time.Time) []span {
	b.Helper()
	create, ok := proxy.find(createOf(name))
	if !ok {
		b.Fatalf("no create of %s through the proxy", name)
	}
	start, ok := proxy.find(startOf(id))
	if !ok {
		b.Fatalf("no start of %s through the proxy", id)
	}
	return []span{
		{name: "→ create sent", d: create.Start.Sub(begin)},
		{name: "create", docker: true, d: create.took()},
		{name: "→ start sent", d: start.Start.Sub(create.End)},
		{name: "start", docker: true, d: start.took()},
		{name: "→ answer read", d: end.Sub(start.End)},
	}
}

// agentStart writes n task files and times until every one of them is
// RUNNING in the store, as a watch of the agent's API sees it (a poll of
// /v1/tasks, which reads every task, would load the agent while it works).
func agentStart(b *testing.B, a *h.Agent, n int) time.Duration {
	b.Helper()
	defs := make([]string, n)
	for i := range defs {
		defs[i] = h.Task(fmt.Sprintf("bench%02d", i), h.App("app", "sleep")).JSON()
	}
	tl := followTasks(b, a)
	defer tl.stop()
	b.StartTimer()
	start := time.Now()
	for i, d := range defs {
		a.WriteTask(fmt.Sprintf("bench-%02d.json", i), d)
	}
	var last time.Time
	a.WaitFor(b, fmt.Sprintf("%d tasks RUNNING in the store", n), time.Duration(10+n)*5*time.Second, func() (bool, string) {
		running, at, err := tl.count("bench", markRunning)
		if err != nil {
			b.Fatal(err)
		}
		last = at
		return running >= n, fmt.Sprintf("%d RUNNING", running)
	})
	b.StopTimer()
	return last.Sub(start)
}

// rawStart creates and starts n containers like the agent's, conc at a time,
// and returns how long that took.
func rawStart(ctx context.Context, api *client.Client, cluster string, n, conc int) (time.Duration, error) {
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := createStart(ctx, api, cluster, i); err != nil {
				mu.Lock()
				firstErr = cmpErr(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

func createStart(ctx context.Context, api *client.Client, cluster string, i int) error {
	_, err := createStartNamed(ctx, api, cluster, i)
	return err
}

// createStartOne creates and starts container 0 of cluster and returns its
// id.
func createStartOne(ctx context.Context, api *client.Client, cluster string) (string, error) {
	return createStartNamed(ctx, api, cluster, 0)
}

func createStartNamed(ctx context.Context, api *client.Client, cluster string, i int) (string, error) {
	host := &container.HostConfig{NetworkMode: "bridge"}
	host.Memory = memoryMiB << 20
	host.CPUShares = 2 // the agent's minimum, which it always sets
	created, err := api.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: fmt.Sprintf("%s-%02d", cluster, i),
		Config: &container.Config{
			Image:  h.TestImage,
			Cmd:    []string{"sleep"},
			Labels: map[string]string{h.LabelCluster: cluster, h.LabelContainerName: "app"},
		},
		HostConfig: host,
	})
	if err != nil {
		return "", fmt.Errorf("create raw container %d: %w", i, err)
	}
	if _, err := api.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return created.ID, fmt.Errorf("start raw container %d: %w", i, err)
	}
	return created.ID, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func removeCluster(b *testing.B, cluster string) {
	if err := h.RemoveCluster(cluster); err != nil {
		b.Errorf("remove benchmark containers of %s: %v", cluster, err)
	}
}

func ratio(r row) float64 {
	if r.raw <= 0 {
		return 0
	}
	return float64(r.agent) / float64(r.raw)
}

func printTable(rows []row) {
	if len(rows) == 0 {
		return
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "scenario\tagent ms\traw docker ms\tratio\tconcurrency")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%d\t%d\t%.2f\t%d\n", r.scenario, r.agent.Milliseconds(), r.raw.Milliseconds(), ratio(r), r.concurrency)
	}
	w.Flush()
}
