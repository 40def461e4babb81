package bench

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/hack/fakeaws"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// Sizes of the task metadata benchmark.
const (
	metadataTasks    = 100
	metadataRequests = 2000
	cpuWindow        = 10 * time.Second
	// cpuPairs is how many windows without and with sampling are averaged.
	cpuPairs = 2
)

// BenchmarkTaskMetadata measures the task metadata endpoint with 100 tasks
// running, each with a task role: the latency of a metadata request
// (/v4/<id>/task) and of a credentials request (/v2/credentials/<id>),
// p50 and p99 of 2000 sequential requests over one kept-alive connection
// spread over the tasks, straight to 127.0.0.1:ECS_TASK_METADATA_PORT (the
// 169.254.170.2 rules add the kernel's NAT, not the agent's work; the rate
// limit is raised out of the way); and what the stats sampler costs: the
// agent's and dockerd's CPU over a window with ECS_DISABLE_METRICS=true,
// then over the same window once the restarted agent (which adopts the
// tasks) has a stats stream open for every container, alternating twice.
func BenchmarkTaskMetadata(b *testing.B) {
	for range b.N {
		r := measureMetadata(b)
		b.ReportMetric(ms(r.meta50), "meta-p50-ms")
		b.ReportMetric(ms(r.meta99), "meta-p99-ms")
		b.ReportMetric(ms(r.cred50), "creds-p50-ms")
		b.ReportMetric(ms(r.cred99), "creds-p99-ms")
		b.ReportMetric(r.agentCPU, "sampler-agent-cpu%/100")
		b.ReportMetric(r.dockerdCPU, "sampler-dockerd-cpu%/100")
		printMetadata(r)
	}
}

type metadataRow struct {
	meta50, meta99, cred50, cred99 time.Duration
	// agentCPU and dockerdCPU are what sampling 100 containers adds, in
	// percent of one core; the idle figures are the baselines.
	agentCPU, dockerdCPU, agentIdle, dockerdIdle float64
}

func measureMetadata(b *testing.B) metadataRow {
	b.Helper()
	b.StopTimer()
	dockerd := h.DockerdPID()
	aws := h.StartFakeAWS(b, fakeaws.Options{})
	role := aws.AddRole("bench")
	a := h.Start(b, h.Options{Env: append(aws.AgentEnv(), "ECS_ENABLE_TASK_IAM_ROLE=true",
		"ECS_TASK_METADATA_RPS_LIMIT=1000000,1000000", "ECS_DISABLE_METRICS=true")})
	defer removeCluster(b, a.Cluster)
	for i := range metadataTasks {
		td := h.Task(fmt.Sprintf("meta%03d", i), h.App("app", "sleep"))
		td.TaskRoleArn = role
		a.WriteTask(fmt.Sprintf("meta-%03d.json", i), td.JSON())
	}
	eids, creds := runningTasks(b, a)

	// Windows alternate between sampling off and on, twice, so that load
	// from elsewhere on the host weighs on both sides alike.
	var r metadataRow
	base := fmt.Sprintf("http://127.0.0.1:%d", a.MetadataPort)
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range 2 * cpuPairs {
		sampling := i%2 == 1
		if i > 0 {
			if err := a.Stop(); err != nil {
				b.Fatalf("stop the agent: %v", err)
			}
			a.SetEnv(fmt.Sprintf("ECS_DISABLE_METRICS=%v", !sampling))
			a.Start()
		}
		if sampling {
			waitSampled(b, client, base, eids)
		}
		agentPct, dockerdPct := cpuPercent(a.PID(), dockerd)
		if sampling {
			r.agentCPU += agentPct / cpuPairs
			r.dockerdCPU += dockerdPct / cpuPairs
		} else {
			r.agentIdle += agentPct / cpuPairs
			r.dockerdIdle += dockerdPct / cpuPairs
		}
	}
	r.agentCPU -= r.agentIdle
	r.dockerdCPU -= r.dockerdIdle

	b.StartTimer()
	r.meta50, r.meta99 = latencies(b, client, base, "/v4/%s/task", eids)
	r.cred50, r.cred99 = latencies(b, client, base, "%s", creds)
	b.StopTimer()
	return r
}

// waitSampled waits until the endpoint has a stats sample of every
// container.
func waitSampled(b *testing.B, client *http.Client, base string, eids []string) {
	b.Helper()
	testwait.For(b, "a stats sample of every container", 60*time.Second, 200*time.Millisecond, func() (bool, string) {
		sampled := 0
		for _, eid := range eids {
			if code, body := h.Get(client, base+"/v4/"+eid+"/stats"); code == 200 && body != "{}" {
				sampled++
			}
		}
		return sampled == len(eids), fmt.Sprintf("%d of %d sampled", sampled, len(eids))
	})
}

// runningTasks waits until every benchmark task runs and returns their
// containers' metadata ids and credentials paths.
func runningTasks(b *testing.B, a *h.Agent) (eids, creds []string) {
	b.Helper()
	var tasks []apiv1.Task
	testwait.For(b, fmt.Sprintf("%d tasks RUNNING", metadataTasks), 10*time.Minute, time.Second, func() (bool, string) {
		all, err := a.Tasks()
		if err != nil {
			return false, err.Error()
		}
		tasks = tasks[:0]
		for _, t := range all {
			if ok, _ := h.IsRunning(t); ok {
				tasks = append(tasks, t)
			}
		}
		return len(tasks) == metadataTasks, fmt.Sprintf("%d RUNNING", len(tasks))
	})
	for _, t := range tasks {
		cs := t.Status.Containers[0]
		eids = append(eids, cs.MetadataID)
		c, ok, err := h.Inspect(cs.DockerID)
		if err != nil || !ok {
			b.Fatalf("inspect %s: %v", cs.DockerID, err)
		}
		for _, kv := range c.Config.Env {
			if v, ok := strings.CutPrefix(kv, apiv1.EnvCredentialsRelativeURI+"="); ok {
				creds = append(creds, v)
			}
		}
	}
	if len(creds) != metadataTasks {
		b.Fatalf("%d of %d containers have a credentials path", len(creds), metadataTasks)
	}
	return eids, creds
}

// cpuPercent is the CPU the agent and dockerd use over cpuWindow, in
// percent of one core.
func cpuPercent(agent, dockerd int) (agentPct, dockerdPct float64) {
	a0, d0 := h.ProcessCPU(agent), h.ProcessCPU(dockerd)
	time.Sleep(cpuWindow) // a rate over a fixed window, not a wait for an event
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / cpuWindow.Seconds() }
	return pct(h.ProcessCPU(agent) - a0), pct(h.ProcessCPU(dockerd) - d0)
}

// latencies times metadataRequests GETs of the format filled with each id
// in turn, all answered 200, and returns p50 and p99.
func latencies(b *testing.B, client *http.Client, base, format string, ids []string) (p50, p99 time.Duration) {
	b.Helper()
	took := make([]time.Duration, 0, metadataRequests)
	for i := range metadataRequests {
		url := base + fmt.Sprintf(format, ids[i%len(ids)])
		start := time.Now()
		code, body := h.Get(client, url)
		took = append(took, time.Since(start))
		if code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", url, code, body)
		}
	}
	slices.Sort(took)
	return percentile(took, 50), percentile(took, 99)
}

func printMetadata(r metadataRow) {
	fmt.Printf("\ntask metadata endpoint, %d tasks with a task role, %d sequential requests each\n", metadataTasks, metadataRequests)
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "request\tp50 ms\tp99 ms")
	fmt.Fprintf(w, "/v4/<id>/task\t%.3f\t%.3f\n", ms(r.meta50), ms(r.meta99))
	fmt.Fprintf(w, "/v2/credentials/<id>\t%.3f\t%.3f\n", ms(r.cred50), ms(r.cred99))
	w.Flush()
	fmt.Printf("stats sampler, %d running containers, %d windows of %s each way: agent +%.1f%% of a core (%.1f%% without it), dockerd +%.1f%% (%.1f%% without; dockerd also serves everything else on the host)\n",
		metadataTasks, cpuPairs, cpuWindow, r.agentCPU, r.agentIdle, r.dockerdCPU, r.dockerdIdle)
}
