package dockerstate_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// runStats starts a sampler on the fixture's Docker until the test ends.
func (f *fixture) runStats() *dockerstate.Stats {
	s := dockerstate.NewStats(f.d)
	ctx, cancel := context.WithCancel(f.ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = s.Run(ctx) }()
	f.t.Cleanup(func() { cancel(); wg.Wait() })
	return s
}

func TestStatsFollowEveryRunningContainerUntilItStops(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	f.run()
	stats := f.runStats()
	c := f.start(f.config("web", "serve", "8080"))
	if len(c.Networks) != 1 || c.Networks[0].Name != "bridge" || c.Networks[0].IPv4 == "" || c.NetworkMode != "bridge" {
		t.Fatalf("cached networks %+v (mode %q); want the bridge with an address", c.Networks, c.NetworkMode)
	}
	var got dockerstate.StatsSample
	testwait.For(t, "two samples of "+c.Name+" with a network rate", 15*time.Second, 100*time.Millisecond, func() (bool, string) {
		var ok bool
		got, ok = stats.Sample(c.ID)
		return ok && got.HasNetworkRate, fmt.Sprintf("sample %v, rate %v", ok, got.HasNetworkRate)
	})
	for _, key := range []string{`"cpu_stats"`, `"memory_stats"`, `"networks"`, `"eth0"`, `"read"`} {
		if !bytes.Contains(got.JSON, []byte(key)) {
			t.Errorf("sample lacks %s: %.300s", key, got.JSON)
		}
	}
	if time.Since(got.Read) > 10*time.Second {
		t.Errorf("sample read at %s; want a recent one", got.Read)
	}
	host := f.config("host", "sleep")
	host.NetworkMode = "host"
	hc := f.start(host)
	testwait.For(t, "a sample of the host-network container", 15*time.Second, 100*time.Millisecond, func() (bool, string) {
		_, ok := stats.Sample(hc.ID)
		return ok, fmt.Sprintf("%d streams", stats.Streams())
	})
	first, _ := stats.Sample(hc.ID)
	testwait.For(t, "a second sample of the host-network container", 15*time.Second, 100*time.Millisecond, func() (bool, string) {
		s, _ := stats.Sample(hc.ID)
		return s.Read.After(first.Read), ""
	})
	if s, _ := stats.Sample(hc.ID); s.HasNetworkRate {
		t.Errorf("host-network container has a network rate; it has no network of its own")
	}

	// Other task containers may run on this daemon (another agent's): look
	// at this test's own containers' streams only.
	f.cli("kill", c.ID)
	testwait.For(t, "the stopped container's stream closed", 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		_, ok := stats.Sample(c.ID)
		gone, host := !stats.Following(c.ID), stats.Following(hc.ID)
		return !ok && gone && host, fmt.Sprintf("sample kept %v, stream closed %v, host-network stream open %v", ok, gone, host)
	})
}

// TestStatsStreamThatGoesSilentIsOpenedAgain: a stream that stops sending
// while its container runs (a daemon wedged reading a cgroup) must not
// leave the last sample standing as the container's use; the sampler ends
// it after CallTimeout without a sample and opens another.
func TestStatsStreamThatGoesSilentIsOpenedAgain(t *testing.T) {
	p := startProxy(t)
	const timeout = 3 * time.Second
	f := newFixture(t, dockerstate.Options{Host: p.host(), CallTimeout: timeout})
	f.run()
	stats := f.runStats()
	c := f.start(f.config("app", "sleep"))
	testwait.For(t, "a sample of "+c.Name, 15*time.Second, 100*time.Millisecond, func() (bool, string) {
		_, ok := stats.Sample(c.ID)
		return ok, ""
	})

	opened := p.statsOpened.Load()
	p.muteStats.Store(true)
	muted := time.Now()
	testwait.For(t, "the silent stream opened again", 4*timeout, 100*time.Millisecond, func() (bool, string) {
		n := p.statsOpened.Load()
		return n > opened, fmt.Sprintf("%d stats requests, %d before the silence", n, opened)
	})
	if waited := time.Since(muted); waited < timeout {
		t.Errorf("stream opened again %s after it went silent; want no sooner than the %s without a sample", waited, timeout)
	}
	sm, _ := stats.Sample(c.ID)
	p.muteStats.Store(false)
	testwait.For(t, "samples again after the silence", 4*timeout, 100*time.Millisecond, func() (bool, string) {
		now, ok := stats.Sample(c.ID)
		return ok && now.Read.After(sm.Read), fmt.Sprintf("latest sample read at %s", now.Read)
	})
}

// TestStatsUsageIsCPUAndMemoryOfTheSamplesSinceTheLastDrain runs a
// container that holds 32 MiB and keeps a CPU busy: its usage has a CPU
// figure well above idle and its memory near 32 MiB, and Drain starts a
// new period.
func TestStatsUsageIsCPUAndMemoryOfTheSamplesSinceTheLastDrain(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	f.run()
	stats := f.runStats()
	c := f.start(f.config("load", "load", "32"))
	var u dockerstate.Usage
	testwait.For(t, "three samples with CPU and memory figures", 20*time.Second, 200*time.Millisecond, func() (bool, string) {
		if d, ok := stats.Drain(c.ID); ok {
			u.CPUPercent, u.MemoryMiB = merge(u.CPUPercent, d.CPUPercent), merge(u.MemoryMiB, d.MemoryMiB)
		}
		return u.CPUPercent.Count >= 3, fmt.Sprintf("%d samples", u.CPUPercent.Count)
	})
	if u.MemoryMiB.Count != u.CPUPercent.Count {
		t.Errorf("%d memory samples, %d CPU samples; want one of each per sample", u.MemoryMiB.Count, u.CPUPercent.Count)
	}
	if mean := u.MemoryMiB.Sum / float64(u.MemoryMiB.Count); mean < 32 || mean > 48 {
		t.Errorf("memory %.1f MiB on average; want the 32 MiB held plus the program's own few", mean)
	}
	if u.MemoryMiB.Min > u.MemoryMiB.Max || u.CPUPercent.Min > u.CPUPercent.Max {
		t.Errorf("sets %+v: min above max", u)
	}
	// One spinning goroutine: well above an idle container's ~0 %, at most
	// one CPU (plus the runtime's own threads).
	if u.CPUPercent.Max < 10 || u.CPUPercent.Max > 150 {
		t.Errorf("CPU at most %.1f %% of a CPU; want a busy loop's share of one CPU", u.CPUPercent.Max)
	}
	s, _ := stats.Sample(c.ID)
	if !s.HasCPU || !s.HasMemory || s.MemoryBytes < 32<<20 {
		t.Errorf("latest sample: CPU %v (%v), memory %d (%v); want both, memory ≥ 32 MiB", s.CPUPercent, s.HasCPU, s.MemoryBytes, s.HasMemory)
	}
	if d, ok := stats.Drain(c.ID); ok && d.CPUPercent.Count > 2 {
		t.Errorf("a Drain right after a Drain has %d samples; want the new period's (at most a second's)", d.CPUPercent.Count)
	}
}

// merge adds two sets of the same figure.
func merge(a, b dockerstate.StatsSet) dockerstate.StatsSet {
	if a.Count == 0 {
		return b
	}
	if b.Count == 0 {
		return a
	}
	return dockerstate.StatsSet{Min: min(a.Min, b.Min), Max: max(a.Max, b.Max), Sum: a.Sum + b.Sum, Count: a.Count + b.Count}
}

// BenchmarkStatsSampler measures what sampling costs per running
// container: the CPU this process (the sampler) and the Docker daemon use
// while every container's stats stream is open, less what they use over
// the same time with no stream, divided by the containers. Set
// STATS_BENCH_CONTAINERS (default 20) and STATS_BENCH_SECONDS (10).
func BenchmarkStatsSampler(b *testing.B) {
	if noDaemon != "" {
		b.Skipf("real-daemon benchmark skipped: %s", noDaemon)
	}
	n := envInt("STATS_BENCH_CONTAINERS", 20)
	window := time.Duration(envInt("STATS_BENCH_SECONDS", 10)) * time.Second
	dockerd := dockerdPID(b)
	cluster := "stats-bench-" + randomHex(4)
	b.Cleanup(func() { removeLabelled(cluster) })
	args := []string{"run", "-d", "--label", dockerstate.LabelCluster + "=" + cluster}
	for i := range n {
		task := fmt.Sprintf("arn:aws:ecs:local:000000000000:task/bench/%s%02d", randomHex(15), i)
		out, err := exec.Command("docker", append(args, "--label", dockerstate.LabelTaskARN+"="+task, testImage, "sleep")...).CombinedOutput()
		if err != nil {
			b.Fatalf("docker run: %v: %s", err, out)
		}
	}
	d := syncedDocker(b)
	for b.Loop() {
		idleSelf, idleDaemon := cpuOver(window, dockerd)
		s := dockerstate.NewStats(d)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = s.Run(ctx) }()
		testwait.For(b, "a sample of every container", 30*time.Second, 100*time.Millisecond, func() (bool, string) {
			have := 0
			for _, c := range d.Containers() {
				if _, ok := s.Sample(c.ID); ok && c.Labels[dockerstate.LabelCluster] == cluster {
					have++
				}
			}
			return have == n, fmt.Sprintf("%d of %d sampled", have, n)
		})
		self, daemon := cpuOver(window, dockerd)
		cancel()
		<-done
		perC := func(busy, idle time.Duration) float64 {
			return 100 * (busy - idle).Seconds() / window.Seconds() / float64(n)
		}
		b.ReportMetric(perC(self, idleSelf), "agent-cpu%/container")
		b.ReportMetric(perC(daemon, idleDaemon), "dockerd-cpu%/container")
		b.ReportMetric(float64(n), "containers")
	}
}

// cpuOver is the CPU time this process and dockerd use over the window.
func cpuOver(window time.Duration, dockerd int) (self, daemon time.Duration) {
	s0, d0 := selfCPU(), h.ProcessCPU(dockerd)
	time.Sleep(window) // measuring a rate over a fixed window, not waiting for an event
	return selfCPU() - s0, h.ProcessCPU(dockerd) - d0
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func dockerdPID(b *testing.B) int {
	pid := h.DockerdPID()
	if pid == 0 {
		b.Skip("dockerd's pid not found: its CPU cannot be measured")
	}
	return pid
}

func removeLabelled(cluster string) {
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label="+dockerstate.LabelCluster+"="+cluster).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		_ = exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).Run()
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
