package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// exitTasks is how many ECS tasks the exit latency (P5) is measured over:
// 100, so that the nearest-rank p99 is the second slowest exit and not the
// slowest (with 40 it was the maximum). Each exit takes well under a second
// to measure: with 100 the whole benchmark ran in 66 s on the 2-core
// development VM.
const exitTasks = 100

// BenchmarkExitReport measures P5: from a task's essential container
// exiting (`docker kill`, the container's FinishedAt as Docker records it)
// to the agent's SubmitTaskStateChange STOPPED arriving at the fake ECS
// endpoint (its receive time), over exitTasks tasks on an ACS session,
// killed one at a time. It splits each exit into Docker's part and the
// agent's, measured in the same run: Docker's is FinishedAt → the die
// event (its time as the daemon stamps it) and the agent's inspect of the
// exited container (timed at a proxy in the agent's DOCKER_HOST); the
// agent's is the rest: the die event reaching it and its inspect being
// sent, the task reconciled to STOPPED in the store (seen by a watch of
// the agent's API), and the report sent.
func BenchmarkExitReport(b *testing.B) {
	for range b.N {
		b.StopTimer()
		load0 := loadAvg()
		proxy := startCountingProxy(b, true)
		e := h.StartECSWithACS(b)
		a := e.StartAgent(b, h.Options{Env: []string{"DOCKER_HOST=" + proxy.host()}})
		tl := followTasks(b, a.Agent)
		dies := followDies(b, a.Cluster)
		var arns []string
		for i := range exitTasks {
			arns = append(arns, a.RunTask(h.Task(fmt.Sprintf("benchexit%02d", i), h.App("app", "sleep"))))
		}
		ids := map[string]string{}
		for _, arn := range arns {
			a.WaitReports(b, arn, 2*time.Minute, h.HasReport("task RUNNING"))
			task, _ := tl.await(b, arn, markRunning, time.Minute)
			if len(task.Status.Containers) != 1 || task.Status.Containers[0].DockerID == "" {
				b.Fatalf("task %s has no container in the store", arn)
			}
			ids[arn] = task.Status.Containers[0].DockerID
		}
		var total, agentPart, dockerPart []time.Duration
		steps := newSpanStats()
		for _, arn := range arns {
			id := ids[arn]
			if err := h.KillContainer(id); err != nil {
				b.Fatalf("kill task %s's container: %v", arn, err)
			}
			reports := a.WaitReports(b, arn, time.Minute, h.HasReport("task STOPPED"))
			_, marks := tl.await(b, arn, markStopped, 10*time.Second)
			die := dies.await(b, id, 10*time.Second)
			c, ok, err := h.Inspect(id)
			if err != nil || !ok {
				b.Fatalf("inspect %s: %v %v", id, ok, err)
			}
			exited := c.State.FinishedAt
			received := stoppedReceived(reports)
			// The agent's inspect that saw the exit: the first that began
			// after the daemon sent the die event.
			inspect, ok := proxy.find(inspectOf(id, die.sent))
			if !ok {
				b.Fatalf("no inspect of %s after its die event through the proxy", id)
			}
			// An inspect of the container still in Docker when the die
			// event came (the agent's, for the kill event before it)
			// holds the agent's events loop up.
			earlier := proxy.busy(func(c dockerCall) bool { return inspectOf(id, time.Time{})(c) && c.Start.Before(die.sent) }, die.sent, inspect.Start)
			spans := []span{
				{name: "exit → die event sent", docker: true, d: die.sent.Sub(exited)},
				{name: "an earlier inspect's rest", d: earlier},
				{name: "→ the agent's inspect sent", d: inspect.Start.Sub(die.sent) - earlier},
				{name: "inspect", docker: true, d: inspect.took()},
				{name: "→ STOPPED stored", d: marks[markStopped].Sub(inspect.End)},
				{name: "→ report received", d: received.Sub(marks[markStopped])},
			}
			steps.add(append(spans, span{name: "(die event at the benchmark's own client, after it was sent)", docker: true, d: die.received.Sub(die.sent)}))
			d, own := sumSplit(spans)
			total = append(total, received.Sub(exited))
			dockerPart, agentPart = append(dockerPart, d), append(agentPart, own)
		}
		for _, s := range [][]time.Duration{total, agentPart, dockerPart} {
			slices.Sort(s)
		}
		load1 := loadAvg()
		b.ReportMetric(ms(percentile(total, 50)), "exit-to-report-p50-ms")
		b.ReportMetric(ms(percentile(total, 99)), "exit-to-report-p99-ms")
		b.ReportMetric(ms(percentile(dockerPart, 99)), "docker-part-p99-ms")
		b.ReportMetric(ms(percentile(agentPart, 99)), "agent-part-p99-ms")
		fmt.Printf("P5 container exit → SubmitTaskStateChange STOPPED at the fake, %d tasks (load average %s → %s): p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			len(total), load0, load1, ms(percentile(total, 50)), ms(percentile(total, 99)), ms(total[len(total)-1]))
		fmt.Printf("P5 split: Docker's part (exit → die event sent, and the agent's inspect) p50 %.1f p99 %.1f ms; the agent's own part p50 %.1f p99 %.1f ms\n",
			ms(percentile(dockerPart, 50)), ms(percentile(dockerPart, 99)), ms(percentile(agentPart, 50)), ms(percentile(agentPart, 99)))
		fmt.Printf("P5 steps, p50/p99 ms: %s\n", steps.line())
	}
}

// dieWatch records the die events of one cluster's containers, as the
// daemon stamped them and as this process received them.
type dieWatch struct {
	mu   sync.Mutex
	seen map[string]dieEvent
	err  error
}

type dieEvent struct{ sent, received time.Time }

// followDies subscribes to the daemon's die events of the cluster's
// containers, directly and not through the agent's proxy.
func followDies(b *testing.B, cluster string) *dieWatch {
	b.Helper()
	api, err := client.New(client.FromEnv)
	if err != nil {
		b.Fatalf("docker client: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stream := api.Events(ctx, client.EventsListOptions{Filters: client.Filters{}.
		Add("type", "container").Add("event", "die").Add("label", h.LabelCluster+"="+cluster)})
	w := &dieWatch{seen: map[string]dieEvent{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case m := <-stream.Messages:
				at := time.Now()
				w.mu.Lock()
				if _, ok := w.seen[m.Actor.ID]; !ok {
					w.seen[m.Actor.ID] = dieEvent{sent: time.Unix(0, m.TimeNano), received: at}
				}
				w.mu.Unlock()
			case err := <-stream.Err:
				w.mu.Lock()
				if ctx.Err() == nil {
					w.err = fmt.Errorf("docker events: %w", err)
				}
				w.mu.Unlock()
				return
			}
		}
	}()
	b.Cleanup(func() { cancel(); <-done; api.Close() })
	return w
}

func (w *dieWatch) await(b *testing.B, id string, timeout time.Duration) dieEvent {
	b.Helper()
	var ev dieEvent
	testwait.For(b, "die event of "+id, timeout, time.Millisecond, func() (bool, string) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.err != nil {
			b.Fatal(w.err)
		}
		var ok bool
		ev, ok = w.seen[id]
		return ok, fmt.Sprintf("%d die events so far", len(w.seen))
	})
	return ev
}

// stoppedReceived is when the fake received the task's STOPPED change.
func stoppedReceived(rs []fakeecs.Report) time.Time {
	for _, r := range rs {
		if r.Action == fakeecs.ActionSubmitTaskStateChange && r.Status == "STOPPED" {
			return r.Received
		}
	}
	return time.Time{}
}
