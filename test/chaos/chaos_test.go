package chaos

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// The short form, run by `go test` and so by `make test`; `make chaos`
// sets the long one through the environment.
const (
	shortRounds = 3
	shortTasks  = 10
)

// reportsInFlight is how many tasks report at once (docs/ecs.md): a kill
// can catch at most that many reports between ECS's answer and the ack
// write, so at most that many resends per kill are the documented window.
const reportsInFlight = 4

func envInt(t *testing.T, name string, def int64) int64 {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// portRange gives this process's agent 150 dynamic host ports of its own,
// away from the e2e agents' blocks (41000 and up), so that 50 tasks, half
// of them with a port, never run short while old revisions stop.
func portRange() string {
	start := 20000 + 150*(os.Getpid()%60)
	return fmt.Sprintf("%d-%d", start, start+149)
}

func TestKill9DuringChurnLosesNothingAndDuplicatesNothing(t *testing.T) {
	rounds := int(envInt(t, "CHAOS_ROUNDS", shortRounds))
	maxTasks := int(envInt(t, "CHAOS_TASKS", shortTasks))
	seed := envInt(t, "CHAOS_SEED", time.Now().UnixNano())
	t.Logf("chaos: %d rounds, up to %d tasks, seed %d (CHAOS_SEED=%d repeats the same choices)", rounds, maxTasks, seed, seed)
	rng := rand.New(rand.NewSource(seed))

	e := h.StartECSWithACS(t)
	a := e.StartAgent(t, h.Options{PortRange: portRange(), CleanupWait: 2 * time.Minute})
	w := newWorld(a, rng, maxTasks)
	// Time for the agent to start up to maxTasks containers on a loaded
	// 2-core host, plus its report backoff after a restart.
	converge := 60*time.Second + time.Duration(maxTasks)*time.Second

	var total invariants
	var seen invariants // cumulative report counts, to tell this round's
	var totalKills, totalOps int
	var slowest time.Duration
	for round := 1; round <= rounds; round++ {
		ops := maxTasks/4 + 1 + rng.Intn(maxTasks/4+1)
		if round == 1 {
			ops = maxTasks // fill up
		}
		// Kill before a random op (ops go on while the agent is down) or
		// after the last one, a random 0-2 s after the previous op: during
		// creates, starts, stops and reports.
		killAt := rng.Intn(ops + 1)
		kills := 0
		for i := 0; i <= ops; i++ {
			if i == killAt {
				time.Sleep(time.Duration(rng.Intn(2000)) * time.Millisecond)
				a.Kill()
				kills++
			}
			if i < ops {
				w.step()
			}
		}
		a.Start()
		// Now and then a second kill soon after the restart, while the
		// agent adopts what the first one left.
		if rng.Intn(3) == 0 {
			time.Sleep(time.Duration(rng.Intn(1500)) * time.Millisecond)
			a.Kill()
			kills++
			a.Start()
		}
		restarted := time.Now()
		var o observation
		a.WaitFor(t, fmt.Sprintf("round %d converged", round), converge, func() (bool, string) {
			var err error
			if o, err = observe(a); err != nil {
				return false, err.Error()
			}
			return w.settled(o)
		})
		took := time.Since(restarted)
		slowest = max(slowest, took)
		// The fake keeps every report: this round's are the difference.
		// Lost and out-of-order reports are counted as they stand now.
		cum, problems := w.check(o)
		v := cum
		v.reports, v.resends = cum.reports-seen.reports, cum.resends-seen.resends
		seen = cum
		total.add(invariants{duplicates: v.duplicates, doublePorts: v.doublePorts, reports: v.reports, resends: v.resends})
		total.lost, total.outOfOrder = cum.lost, cum.outOfOrder
		totalKills += kills
		totalOps += ops
		t.Logf("round %3d: %2d ops, %d kills, %2d tasks desired running, %3d containers in the cluster, converged in %5.1fs: %v",
			round, ops, kills, w.desiredRunning(), len(o.containers), took.Seconds(), v)
		for _, p := range problems {
			t.Errorf("round %d: %s", round, p)
		}
		if v.resends > reportsInFlight*kills {
			t.Errorf("round %d: %d transitions received twice after %d kills; at most %d per kill can be in the window docs/ecs.md allows",
				round, v.resends, kills, reportsInFlight)
		}
		if t.Failed() {
			t.Fatalf("stopping after round %d (seed %d)", round, seed)
		}
	}
	t.Logf("chaos totals: %d rounds, %d ops, %d kills, %d ECS tasks run, %d static files written, slowest convergence %.1fs: %v (seed %d)",
		rounds, totalOps, totalKills, len(w.ecs), w.nextFile, slowest.Seconds(), total, seed)
}
