package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// pullImageSize is the random layer of the pulled image.
const pullImageSize = 50 << 20

// pullRounds is how many times each side pulls; medians are reported.
const pullRounds = 7

// pullRound is one round's timings.
type pullRound struct {
	docker time.Duration // `docker pull`, process start to exit
	// agentPull is the task's PullStartedAt → PullStoppedAt, the agent's
	// own timestamps: from the task asking for the image to the task
	// seeing it pulled (request, credentials, the daemon's pull, the
	// answer through the store).
	agentPull time.Duration
	// agentRunning is from the task file written to the task RUNNING in
	// /v1/tasks: the pull plus create and start.
	agentRunning time.Duration
}

// BenchmarkImagePull pulls a 50 MB image (the test image plus one random
// layer) from the local registry, alternately with `docker pull` and
// through the agent (ECS_IMAGE_PULL_BEHAVIOR=always, engine auth), the
// image removed from the host before each pull, and compares the medians.
func BenchmarkImagePull(b *testing.B) {
	var rounds []pullRound
	b.Run("50MB", func(b *testing.B) {
		for range b.N {
			rounds = measurePulls(b)
		}
	})
	printPulls(rounds)
}

func measurePulls(b *testing.B) []pullRound {
	b.Helper()
	b.StopTimer()
	registry := h.Registry(b)
	local := fmt.Sprintf("ecs-agent-test/pull-bench:%d", os.Getpid())
	h.BuildRandomImage(b, local, pullImageSize)
	ref := h.PushImage(b, local, "bench-pull")
	// The random layer must be on the host only through ref.
	h.RemoveImage(local)

	auth, _ := json.Marshal(map[string]map[string]string{registry: {"username": h.RegistryUser, "password": h.RegistryPassword}})
	a := h.Start(b, h.Options{Env: []string{
		"ECS_ENGINE_AUTH_TYPE=docker", "ECS_ENGINE_AUTH_DATA=" + string(auth),
		"ECS_IMAGE_PULL_BEHAVIOR=always", "ECS_LOGLEVEL=info",
	}})
	var rounds []pullRound
	for i := range pullRounds {
		var r pullRound
		// Alternate which side goes first, so that neither always pulls
		// right after the other's removal.
		if i%2 == 0 {
			r.docker = dockerPull(b, ref)
			r.agentPull, r.agentRunning = agentPull(b, a, ref, i)
		} else {
			r.agentPull, r.agentRunning = agentPull(b, a, ref, i)
			r.docker = dockerPull(b, ref)
		}
		rounds = append(rounds, r)
	}
	m := medians(rounds)
	b.ReportMetric(float64(m.docker.Milliseconds()), "docker-ms")
	b.ReportMetric(float64(m.agentPull.Milliseconds()), "agent-pull-ms")
	b.ReportMetric(float64(m.agentRunning.Milliseconds()), "agent-running-ms")
	b.ReportMetric(float64(m.agentPull)/float64(m.docker), "agent/docker")
	return rounds
}

// absent removes ref from the host and checks it is gone (its random layer
// with it: no other image holds that layer).
func absent(b *testing.B, ref string) {
	b.Helper()
	h.RemoveImage(ref)
	if exec.Command("docker", "image", "inspect", ref).Run() == nil {
		b.Fatalf("%s is still on the host after docker rmi", ref)
	}
}

// dockerPull times `docker pull ref` with the registry's login.
func dockerPull(b *testing.B, ref string) time.Duration {
	b.Helper()
	absent(b, ref)
	cmd := exec.Command("docker", "pull", "-q", ref)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+h.RegistryDockerConfig())
	b.StartTimer()
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatalf("docker pull %s: %v: %s", ref, err, out)
	}
	return took
}

// agentPull runs one task of ref on the agent and times it; the task is
// stopped and its container removed afterwards, so the image can go.
func agentPull(b *testing.B, a *h.Agent, ref string, round int) (pull, running time.Duration) {
	b.Helper()
	absent(b, ref)
	family := fmt.Sprintf("pullbench%02d", round)
	file := family + ".json"
	c := h.App("app", "sleep")
	c.Image = ref
	def := h.Task(family, c).JSON()
	b.StartTimer()
	start := time.Now()
	a.WriteTask(file, def)
	testwait.For(b, "task "+family+" RUNNING in /v1/tasks", 2*time.Minute, pollEvery, func() (bool, string) {
		v1, err := a.V1Tasks()
		if err != nil {
			return false, err.Error()
		}
		return slices.ContainsFunc(v1.Tasks, func(t h.IntrospectionTask) bool {
			return t.Family == family && t.KnownStatus == "RUNNING"
		}), fmt.Sprint(v1.Tasks)
	})
	running = time.Since(start)
	b.StopTimer()

	tasks, err := a.Tasks()
	if err != nil {
		b.Fatal(err)
	}
	mine := h.TasksOf(tasks, file)
	if len(mine) == 0 {
		b.Fatalf("no task of %s in get tasks", file)
	}
	st := mine[len(mine)-1].Status
	if st.PullStartedAt == nil || st.PullStoppedAt == nil {
		b.Fatalf("task %s has no pull timestamps: %+v", family, st)
	}
	pull = st.PullStoppedAt.Sub(st.PullStartedAt.Time)

	a.RemoveTask(file)
	a.WaitTask(b, file, time.Minute, func(t apiv1.Task) (bool, string) {
		return t.Status.KnownStatus == apiv1.StatusStopped, h.Describe(t)
	})
	if err := h.RemoveCluster(a.Cluster); err != nil {
		b.Fatal(err)
	}
	return pull, running
}

func medians(rounds []pullRound) pullRound {
	median := func(get func(pullRound) time.Duration) time.Duration {
		var ds []time.Duration
		for _, r := range rounds {
			ds = append(ds, get(r))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	return pullRound{
		docker:       median(func(r pullRound) time.Duration { return r.docker }),
		agentPull:    median(func(r pullRound) time.Duration { return r.agentPull }),
		agentRunning: median(func(r pullRound) time.Duration { return r.agentRunning }),
	}
}

func printPulls(rounds []pullRound) {
	if len(rounds) == 0 {
		return
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "pull of a %d MB image from the local registry\tround ms\tmedian ms\tratio to docker pull\n", pullImageSize>>20)
	m := medians(rounds)
	line := func(name string, get func(pullRound) time.Duration) {
		var each []string
		for _, r := range rounds {
			each = append(each, fmt.Sprint(get(r).Milliseconds()))
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%.2f\n", name, strings.Join(each, " "), get(m).Milliseconds(), float64(get(m))/float64(m.docker))
	}
	line("docker pull (CLI, start to exit)", func(r pullRound) time.Duration { return r.docker })
	line("agent: task pull started → stopped", func(r pullRound) time.Duration { return r.agentPull })
	line("agent: task file → RUNNING", func(r pullRound) time.Duration { return r.agentRunning })
	w.Flush()
}
