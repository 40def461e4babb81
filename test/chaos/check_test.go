package chaos

import (
	"fmt"
	"slices"
	"strings"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// settled says whether the agent has converged on the world: every desired
// task running with exactly one running container, every other task
// stopped with none, and every ECS task's transitions acknowledged. The
// string names the first few things still off.
func (w *world) settled(o observation) (bool, string) {
	var off []string
	wanted := map[string]bool{} // ARNs that may have a running container
	for _, name := range sortedKeys(w.static) {
		mine := h.TasksOf(o.tasks, name)
		if len(mine) == 0 {
			off = append(off, name+": no task")
			continue
		}
		newest := mine[len(mine)-1]
		gen := fmt.Sprintf("g%d", w.static[name])
		if len(newest.Spec.Containers) == 0 || !slices.Contains(newest.Spec.Containers[0].Command, gen) {
			off = append(off, fmt.Sprintf("%s: newest task is not of generation %s", name, gen))
			continue
		}
		wanted[newest.Spec.Arn] = true
		if ok, why := h.IsRunning(newest); !ok {
			off = append(off, name+": "+why)
		}
		if n := o.runningOf(newest.Spec.Arn); n != 1 {
			off = append(off, fmt.Sprintf("%s: %d running containers; %s", name, n, h.Describe(newest)))
		}
		for _, old := range mine[:len(mine)-1] {
			if ok, why := h.IsStopped(old); !ok {
				off = append(off, name+" old revision: "+why)
			}
		}
	}
	for _, name := range sortedKeys(w.gone) {
		for _, t := range h.TasksOf(o.tasks, name) {
			if ok, why := h.IsStopped(t); !ok && w.static[name] == 0 {
				off = append(off, name+" removed: "+why)
			}
		}
	}
	for _, arn := range sortedKeys(w.ecs) {
		t, ok := o.ecsTask(arn)
		if w.ecs[arn] {
			wanted[arn] = true
			switch {
			case !ok:
				off = append(off, shortARN(arn)+": the agent has no such task")
				continue
			case o.runningOf(arn) != 1:
				off = append(off, fmt.Sprintf("%s: %d running containers; %s", shortARN(arn), o.runningOf(arn), h.Describe(t)))
			}
			if ok, why := h.IsRunning(t); !ok {
				off = append(off, why)
			}
		} else if ok {
			if ok, why := h.IsStopped(t); !ok {
				off = append(off, why)
			}
		}
		if ok {
			if done, why := h.FullyReported(t); !done {
				off = append(off, shortARN(arn)+": "+why)
			}
		}
	}
	for _, c := range o.containers {
		if c.running() && !wanted[c.arn] {
			off = append(off, fmt.Sprintf("container %s of %s running, not wanted", c.id[:12], shortARN(c.arn)))
		}
	}
	if len(off) > 4 {
		off = append(off[:4], fmt.Sprintf("and %d more", len(off)-4))
	}
	return len(off) == 0, strings.Join(off, "; ")
}

// invariants are what must hold at every instant, whatever was killed
// when: counted per round.
type invariants struct {
	duplicates  int // task containers with more than one Docker container
	doublePorts int // host ports bound by two running containers, or held in the store for another task
	lost        int // transitions that never reached ECS
	outOfOrder  int // STOPPED received before RUNNING, or RUNNING after STOPPED
	resends     int // a transition received again (the documented window after a kill)
	reports     int // transitions received in all
}

func (v *invariants) add(o invariants) {
	v.duplicates += o.duplicates
	v.doublePorts += o.doublePorts
	v.lost += o.lost
	v.outOfOrder += o.outOfOrder
	v.resends += o.resends
	v.reports += o.reports
}

func (v invariants) String() string {
	return fmt.Sprintf("reports=%d resends=%d lost=%d out-of-order=%d duplicate-containers=%d double-ports=%d",
		v.reports, v.resends, v.lost, v.outOfOrder, v.duplicates, v.doublePorts)
}

// check counts the invariant violations in a settled observation, with a
// line about each for the failure message. Resends are cumulative over the
// whole run (the fake keeps every report); the caller takes differences.
func (w *world) check(o observation) (invariants, []string) {
	v, why := containerInvariants(o)
	for _, arn := range sortedKeys(w.ecs) {
		r := reportCheck(w.a.ECS.ReportsFor(arn))
		t, known := o.ecsTask(arn)
		ran := r.received["task RUNNING"] > 0
		for _, c := range t.Status.Containers {
			ran = ran || c.StartedAt != nil
		}
		var want []string
		if w.ecs[arn] {
			want = []string{"app RUNNING", "task RUNNING"}
		} else if ran || (known && t.Status.KnownStatus == apiv1.StatusStopped) {
			want = []string{"task STOPPED"}
			if ran {
				want = append(want, "app RUNNING", "task RUNNING")
			}
		}
		for _, tr := range want {
			if r.received[tr] == 0 {
				v.lost++
				why = append(why, fmt.Sprintf("%s: %q never reported (received %v)", shortARN(arn), tr, r.order))
			}
		}
		v.outOfOrder += len(r.outOfOrder)
		for _, o := range r.outOfOrder {
			why = append(why, fmt.Sprintf("%s: %s (received %v)", shortARN(arn), o, r.order))
		}
		v.resends += r.resends
		v.reports += len(r.order)
	}
	return v, why
}

// containerInvariants counts, in one observation, task containers with
// more than one Docker container and host ports bound twice or bound
// without the store's allocation to the same task.
func containerInvariants(o observation) (invariants, []string) {
	var v invariants
	var why []string
	byTaskContainer := map[string][]string{}
	for _, c := range o.containers {
		key := c.arn + " " + c.name
		byTaskContainer[key] = append(byTaskContainer[key], c.id[:12])
	}
	for _, key := range sortedKeys(byTaskContainer) {
		if ids := byTaskContainer[key]; len(ids) > 1 {
			v.duplicates++
			why = append(why, fmt.Sprintf("duplicate containers %v of %s", ids, key))
		}
	}

	heldBy := map[string]string{} // host port → the task ARN of a running container
	for _, c := range o.containers {
		if !c.running() {
			continue
		}
		for _, p := range c.hostPorts {
			if other, held := heldBy[p]; held {
				v.doublePorts++
				why = append(why, fmt.Sprintf("host port %s bound by %s and %s", p, other, c.arn))
			}
			heldBy[p] = c.arn
		}
	}
	taskARN := map[string]string{}
	for _, t := range o.tasks {
		taskARN[t.Name] = t.Spec.Arn
	}
	allocated := map[string]string{}
	for _, p := range o.ports {
		allocated[fmt.Sprintf("%s/%d", p.Spec.Protocol, p.Spec.HostPort)] = taskARN[p.Spec.Task]
	}
	for _, p := range sortedKeys(heldBy) {
		if arn, ok := allocated[p]; !ok || arn != heldBy[p] {
			v.doublePorts++
			why = append(why, fmt.Sprintf("host port %s bound by %s but allocated to %q", p, heldBy[p], arn))
		}
	}

	return v, why
}

// reportSummary is what one task's reports carried.
type reportSummary struct {
	order      []string
	received   map[string]int // "app RUNNING", "task STOPPED": how many times
	resends    int
	outOfOrder []string
}

// reportCheck reads a task's transitions in the order the fake received
// them. An exit code is part of what a STOPPED says, not of which
// transition it is.
func reportCheck(rs []fakeecs.Report) reportSummary {
	s := reportSummary{received: map[string]int{}}
	for _, tr := range h.Transitions(rs) {
		if i := strings.Index(tr, " exit="); i > 0 {
			tr = tr[:i]
		}
		s.order = append(s.order, tr)
		name, status, _ := strings.Cut(tr, " ")
		if s.received[tr] > 0 {
			s.resends++
		}
		s.received[tr]++
		switch status {
		case "STOPPED":
			if s.received[name+" RUNNING"] == 0 && name == "task" && anyRunning(s.received) {
				s.outOfOrder = append(s.outOfOrder, "task STOPPED before task RUNNING")
			}
		case "RUNNING":
			if s.received[name+" STOPPED"] > 0 {
				s.outOfOrder = append(s.outOfOrder, name+" RUNNING after "+name+" STOPPED")
			}
		}
	}
	return s
}

// anyRunning says whether a container was reported RUNNING: a task that
// ran must be reported RUNNING before STOPPED (docs/ecs.md); one that never
// started goes straight to STOPPED.
func anyRunning(received map[string]int) bool {
	for tr, n := range received {
		if n > 0 && strings.HasSuffix(tr, " RUNNING") && !strings.HasPrefix(tr, "task ") {
			return true
		}
	}
	return false
}
