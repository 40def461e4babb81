package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	"github.com/ecs-agent/ecs-agent/internal/tcs"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// telemetryWindow is how long each telemetry setting is watched: three
// publish cycles.
const telemetryWindow = 60 * time.Second

// BenchmarkTelemetry runs scaleTasks ECS tasks (pushed over ACS) and
// measures, over telemetryWindow each, the agent's and dockerd's CPU with
// metrics on (the stats sampler's one stream per container, and TCS
// publishing every 20 s) and, after a kill -9 and a restart on the same
// store with ECS_DISABLE_METRICS=true, with metrics off (TCS sends health
// and instance status only). The difference is what the sampler and TCS
// cost (target: ≤ 2 % of a core with 200 tasks); the dockerstate
// benchmark BenchmarkStatsSampler splits out the sampler's share per
// container.
func BenchmarkTelemetry(b *testing.B) {
	for range b.N {
		measureTelemetry(b)
	}
}

func measureTelemetry(b *testing.B) {
	b.StopTimer()
	srv, err := fakeecs.Start("127.0.0.1:0", fakeecs.Options{Credentials: map[string]string{benchKey: benchSecret}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	a := h.New(b, h.Options{Env: append(ecsEnv(srv, time.Hour), "ECS_DISABLE_METRICS=false")})
	srv.CreateCluster(a.Cluster)
	a.Start()
	defer func() { a.Kill(); removeCluster(b, a.Cluster) }()
	testwait.For(b, "the agent's ACS session", 30*time.Second, pollEvery, func() (bool, string) {
		return len(srv.ACSSessions()) == 1, "no session open"
	})
	// networkMode none, as in BenchmarkIdleAndRestart: 200 veths would
	// measure the host's bridge.
	def := srv.RegisterTaskDefinition(&ecs.RegisterTaskDefinitionInput{
		Family: aws.String("scaletcs"), NetworkMode: types.NetworkModeNone,
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(h.TestImage), Command: []string{"sleep"}, Memory: aws.Int32(memoryMiB),
		}},
	})
	api := benchECSClient(srv)
	for placed := 0; placed < scaleTasks; placed += 10 {
		out, err := api.RunTask(context.Background(), &ecs.RunTaskInput{Cluster: aws.String(a.Cluster), TaskDefinition: def.TaskDefinitionArn, Count: aws.Int32(10)})
		if err != nil || len(out.Tasks) != 10 {
			b.Fatalf("RunTask of 10: %v (failures %+v)", err, out)
		}
	}
	waitAllRunning(b, a, 10*time.Minute)
	time.Sleep(35 * time.Second) // the start-up settles (last reports, a relist) before the window

	on := telemetryCPU(b, srv, a)
	// The sampler alone: TCS refuses the agent, which then only retries
	// (backing off to a try a minute).
	srv.SetTCSRefusal(tcs.ExceptionServer)
	time.Sleep(5 * time.Second) // the session's end and the first retries pass before the window
	sampler := telemetryCPU(b, srv, a)
	srv.SetTCSRefusal("")
	a.Kill()
	a.SetEnv("ECS_DISABLE_METRICS=true")
	a.Start()
	waitAllRunning(b, a, time.Minute)
	time.Sleep(35 * time.Second)
	off := telemetryCPU(b, srv, a)

	cost := on.agent - off.agent
	b.ReportMetric(on.agent, "metrics-on-agent-cpu-%core")
	b.ReportMetric(off.agent, "metrics-off-agent-cpu-%core")
	b.ReportMetric(cost, "sampler+tcs-cpu-%core")
	b.ReportMetric(sampler.agent-off.agent, "sampler-cpu-%core")
	b.ReportMetric(on.agent-sampler.agent, "tcs-cpu-%core")
	b.ReportMetric(on.dockerd-off.dockerd, "sampler-dockerd-cpu-%core")
	fmt.Printf("Telemetry, %d ECS tasks, agent CPU in %% of a core over %s each: metrics on %.2f (%d TCS metrics requests, %d KiB of frames), TCS refused %.2f, ECS_DISABLE_METRICS=true %.2f (%d health/status requests). "+
		"Sampler and TCS cost %.2f (target 2): the sampler %.2f, TCS %.2f. dockerd: %.2f with the streams, %.2f without\n",
		scaleTasks, telemetryWindow, on.agent, on.metrics, on.bytes/1024, sampler.agent, off.agent, off.other,
		cost, sampler.agent-off.agent, on.agent-sampler.agent, on.dockerd, off.dockerd)
	if v := srv.TCS().Violations; len(v) > 0 {
		b.Errorf("TCS rules broken: %q", v)
	}
}

// telemetryRow is one window's CPU (percent of a core) and what TCS got.
type telemetryRow struct {
	agent, dockerd float64
	metrics, other int
	bytes          int
}

// telemetryCPU measures the agent's and dockerd's CPU over telemetryWindow
// and counts the TCS requests that arrived in it.
func telemetryCPU(b *testing.B, srv *fakeecs.Server, a *h.Agent) telemetryRow {
	b.Helper()
	pid, dockerd := a.PID(), h.DockerdPID()
	start := time.Now()
	a0, d0 := h.ProcessCPU(pid), h.ProcessCPU(dockerd)
	time.Sleep(telemetryWindow) // a rate over a fixed window, not a wait for an event
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / telemetryWindow.Seconds() }
	r := telemetryRow{agent: pct(h.ProcessCPU(pid) - a0), dockerd: pct(h.ProcessCPU(dockerd) - d0)}
	for _, rec := range srv.TCS().Records {
		if rec.Time.Before(start) {
			continue
		}
		if rec.Metrics != nil {
			r.metrics++
			if frame, err := tcs.Encode(rec.Metrics); err == nil {
				r.bytes += len(frame)
			}
		} else {
			r.other++
		}
	}
	return r
}
