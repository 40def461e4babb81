package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/ecs-agent/ecs-agent/internal/testwait"
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
	a := h.Start(b, h.Options{})
	// Warm Docker up so that neither side pays for a cold first create.
	warm := "bench-warm-" + a.Cluster
	if _, err := rawStart(context.Background(), api, warm, 1, 1); err != nil {
		b.Fatal(err)
	}
	removeCluster(b, warm)

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

// measureSingle times one task file → RUNNING (/v1/tasks polled every
// millisecond) and one raw create+start, alternately, rounds times on one
// agent, and returns the medians.
func measureSingle(b *testing.B, rounds int) row {
	b.Helper()
	api, err := client.New(client.FromEnv)
	if err != nil {
		b.Fatalf("docker client: %v", err)
	}
	defer api.Close()
	b.StopTimer()
	a := h.Start(b, h.Options{})
	defer removeCluster(b, a.Cluster)
	rawCluster := "bench-raw1-" + a.Cluster
	if _, err := rawStart(context.Background(), api, rawCluster+"-warm", 1, 1); err != nil {
		b.Fatal(err)
	}
	removeCluster(b, rawCluster+"-warm")
	var agent, raw []time.Duration
	for i := range rounds {
		family := fmt.Sprintf("single%02d", i)
		def := h.Task(family, h.App("app", "sleep")).JSON()
		start := time.Now()
		a.WriteTask(family+".json", def)
		testwait.For(b, family+" RUNNING", time.Minute, time.Millisecond, func() (bool, string) {
			v1, err := a.V1Tasks()
			if err != nil {
				return false, err.Error()
			}
			for _, t := range v1.Tasks {
				if t.Family == family && t.KnownStatus == "RUNNING" {
					return true, ""
				}
			}
			return false, "not RUNNING"
		})
		agent = append(agent, time.Since(start))
		rc := fmt.Sprintf("%s-%02d", rawCluster, i)
		took, err := rawStart(context.Background(), api, rc, 1, 1)
		removeCluster(b, rc)
		if err != nil {
			b.Fatal(err)
		}
		raw = append(raw, took)
	}
	slices.Sort(agent)
	slices.Sort(raw)
	fmt.Printf("P1 one task file → RUNNING, %d rounds: agent %v; raw create+start %v\n", rounds, agent, raw)
	return row{scenario: fmt.Sprintf("1 task, sleep, bridge (p50 of %d)", rounds), agent: agent[rounds/2], raw: raw[rounds/2], concurrency: 1}
}

// agentStart writes n task files and times until /v1/tasks shows all of
// them RUNNING.
func agentStart(b *testing.B, a *h.Agent, n int) time.Duration {
	b.Helper()
	defs := make([]string, n)
	for i := range defs {
		defs[i] = h.Task(fmt.Sprintf("bench%02d", i), h.App("app", "sleep")).JSON()
	}
	b.StartTimer()
	start := time.Now()
	for i, d := range defs {
		a.WriteTask(fmt.Sprintf("bench-%02d.json", i), d)
	}
	testwait.For(b, fmt.Sprintf("%d tasks RUNNING in /v1/tasks", n), time.Duration(10+n)*5*time.Second, pollEvery, func() (bool, string) {
		v1, err := a.V1Tasks()
		if err != nil {
			return false, err.Error()
		}
		running := 0
		for _, t := range v1.Tasks {
			if strings.HasPrefix(t.Family, "bench") && t.KnownStatus == "RUNNING" {
				running++
			}
		}
		return running >= n, fmt.Sprintf("%d RUNNING", running)
	})
	took := time.Since(start)
	b.StopTimer()
	return took
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
		return fmt.Errorf("create raw container %d: %w", i, err)
	}
	if _, err := api.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start raw container %d: %w", i, err)
	}
	return nil
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
