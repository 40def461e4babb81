package bench

import (
	"fmt"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// exitTasks is how many ECS tasks the exit latency (P5) is measured over.
const exitTasks = 40

// BenchmarkExitReport measures P5: from a task's essential container
// exiting (`docker kill`, the container's FinishedAt as Docker records it)
// to the agent's SubmitTaskStateChange STOPPED arriving at the fake ECS
// endpoint (its receive time), over exitTasks tasks on an ACS session,
// killed one at a time. It also splits the time at the moment /v1/tasks
// first shows the task STOPPED: before it is the agent noticing the exit
// and stopping the task; after it, the report.
func BenchmarkExitReport(b *testing.B) {
	for range b.N {
		b.StopTimer()
		e := h.StartECSWithACS(b)
		a := e.StartAgent(b, h.Options{})
		var arns []string
		for i := range exitTasks {
			arns = append(arns, a.RunTask(h.Task(fmt.Sprintf("benchexit%02d", i), h.App("app", "sleep"))))
		}
		ids := map[string]string{}
		for _, arn := range arns {
			a.WaitReports(b, arn, 2*time.Minute, h.HasReport("task RUNNING"))
		}
		v1, err := a.V1Tasks()
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range v1.Tasks {
			if len(t.Containers) == 1 {
				ids[t.Arn] = t.Containers[0].DockerID
			}
		}
		var total, toStopped, toReport []time.Duration
		for _, arn := range arns {
			id := ids[arn]
			if id == "" {
				b.Fatalf("task %s has no container in /v1/tasks", arn)
			}
			w := watchStatus(a.Agent, func(t h.IntrospectionTask) bool { return t.KnownStatus == "STOPPED" })
			if out, err := exec.Command("docker", "kill", id).CombinedOutput(); err != nil {
				b.Fatalf("docker kill %s: %v: %s", id, err, out)
			}
			reports := a.WaitReports(b, arn, time.Minute, h.HasReport("task STOPPED"))
			a.WaitFor(b, "STOPPED in /v1/tasks", 10*time.Second, func() (bool, string) {
				w.mu.Lock()
				defer w.mu.Unlock()
				_, ok := w.inStore[arn]
				return ok, ""
			})
			w.stop()
			c, ok, err := h.Inspect(id)
			if err != nil || !ok {
				b.Fatalf("inspect %s: %v %v", id, ok, err)
			}
			exited := c.State.FinishedAt
			received := stoppedReceived(reports)
			w.mu.Lock()
			seen := w.inStore[arn]
			w.mu.Unlock()
			total = append(total, received.Sub(exited))
			toStopped = append(toStopped, seen.Sub(exited))
			toReport = append(toReport, received.Sub(seen))
		}
		for _, s := range [][]time.Duration{total, toStopped, toReport} {
			slices.Sort(s)
		}
		b.ReportMetric(ms(percentile(total, 50)), "exit-to-report-p50-ms")
		b.ReportMetric(ms(percentile(total, 99)), "exit-to-report-p99-ms")
		fmt.Printf("P5 container exit → SubmitTaskStateChange STOPPED at the fake, %d tasks: p50 %.1f ms, p99 %.1f ms, max %.1f ms; "+
			"exit → STOPPED seen in /v1/tasks (polled every %s) p50 %.1f p99 %.1f ms; that → report received p50 %.1f p99 %.1f ms\n",
			len(total), ms(percentile(total, 50)), ms(percentile(total, 99)), ms(total[len(total)-1]), pollEvery,
			ms(percentile(toStopped, 50)), ms(percentile(toStopped, 99)), ms(percentile(toReport, 50)), ms(percentile(toReport, 99)))
	}
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
