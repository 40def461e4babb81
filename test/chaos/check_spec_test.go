package chaos

import (
	"slices"
	"testing"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
)

// The checks are specified here on made-up observations, so that a chaos
// run that passes is known to have been able to fail.

func taskReport(status string, containers ...fakeecs.ContainerReport) fakeecs.Report {
	return fakeecs.Report{Action: "SubmitTaskStateChange", Status: status, Containers: containers}
}

func containerReport(status string) fakeecs.Report {
	return fakeecs.Report{Action: fakeecs.ActionSubmitContainerStateChange, ContainerName: "app", Status: status}
}

func TestReportCheckCountsResendsAndFlagsLostOrder(t *testing.T) {
	exit := int32(137)
	app := func(status string) fakeecs.ContainerReport {
		c := fakeecs.ContainerReport{ContainerName: "app", Status: status}
		if status == "STOPPED" {
			c.ExitCode = &exit
		}
		return c
	}
	for _, tc := range []struct {
		name       string
		reports    []fakeecs.Report
		resends    int
		outOfOrder int
	}{
		{"in order once", []fakeecs.Report{taskReport("RUNNING", app("RUNNING")), taskReport("STOPPED", app("STOPPED"))}, 0, 0},
		{"never started goes straight to STOPPED", []fakeecs.Report{taskReport("STOPPED")}, 0, 0},
		{"a resend after a kill", []fakeecs.Report{taskReport("RUNNING", app("RUNNING")), taskReport("RUNNING"), taskReport("STOPPED", app("STOPPED"))}, 1, 0},
		{"container RUNNING after STOPPED", []fakeecs.Report{containerReport("STOPPED"), containerReport("RUNNING")}, 0, 1},
		{"task STOPPED before RUNNING of a task that ran", []fakeecs.Report{containerReport("RUNNING"), taskReport("STOPPED", app("STOPPED")), taskReport("RUNNING")}, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := reportCheck(tc.reports)
			if s.resends != tc.resends || len(s.outOfOrder) != tc.outOfOrder {
				t.Errorf("resends %d, out of order %v; want %d and %d (received %v)", s.resends, s.outOfOrder, tc.resends, tc.outOfOrder, s.order)
			}
		})
	}
}

func TestContainerInvariantsFindDuplicatesAndPortsHeldTwice(t *testing.T) {
	alloc := func(port int32, task string) apiv1.PortAllocation {
		var p apiv1.PortAllocation
		p.Spec = apiv1.PortAllocationSpec{HostPort: port, Protocol: "tcp", Task: task}
		return p
	}
	task := func(name, arn string) apiv1.Task {
		var t apiv1.Task
		t.Name, t.Spec.Arn = name, arn
		return t
	}
	base := observation{
		tasks: []apiv1.Task{task("t1", "arn:1"), task("t2", "arn:2")},
		ports: []apiv1.PortAllocation{alloc(20001, "t1")},
		containers: []dockerContainer{
			{id: "aaaaaaaaaaaa1", state: "running", arn: "arn:1", name: "app", hostPorts: []string{"tcp/20001"}},
			{id: "bbbbbbbbbbbb2", state: "exited", arn: "arn:2", name: "app"},
		},
	}
	if v, why := containerInvariants(base); v.duplicates != 0 || v.doublePorts != 0 {
		t.Fatalf("a sound observation: %v %v", v, why)
	}
	dup := base
	dup.containers = append(slices.Clone(base.containers), dockerContainer{id: "cccccccccccc3", state: "exited", arn: "arn:1", name: "app"})
	if v, _ := containerInvariants(dup); v.duplicates != 1 {
		t.Errorf("two Docker containers of arn:1 app: %d duplicates, want 1", v.duplicates)
	}
	twice := base
	twice.containers = append(slices.Clone(base.containers), dockerContainer{id: "dddddddddddd4", state: "running", arn: "arn:2", name: "web", hostPorts: []string{"tcp/20001"}})
	if v, _ := containerInvariants(twice); v.doublePorts == 0 {
		t.Error("tcp/20001 bound by running containers of two tasks: not counted")
	}
	unallocated := base
	unallocated.ports = nil
	if v, _ := containerInvariants(unallocated); v.doublePorts != 1 {
		t.Errorf("a bound port with no allocation in the store: %d, want 1", v.doublePorts)
	}
}

func TestParsePSKeepsALastContainerWithoutPorts(t *testing.T) {
	out := "aaaaaaaaaaaa1\trunning\tarn:1\tapp\t0.0.0.0:20001->8080/tcp, :::20001->8080/tcp\n" +
		"bbbbbbbbbbbb2\trunning\tarn:2\tapp\t\n"
	cs := parsePS(out)
	if len(cs) != 2 {
		t.Fatalf("%d containers from %q, want 2", len(cs), out)
	}
	if !slices.Equal(cs[0].hostPorts, []string{"tcp/20001"}) || len(cs[1].hostPorts) != 0 || cs[1].arn != "arn:2" {
		t.Errorf("parsed %+v", cs)
	}
}
