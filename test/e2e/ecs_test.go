package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// reportTimeout bounds how long a report owed to a reachable endpoint may
// take: the reporter's retry backoff grows to 15 s while the endpoint is
// away, plus the SDK's own retries.
const reportTimeout = 45 * time.Second

func TestECSRegistrationResourcesAttributesAndTheSameARNAfterRestarts(t *testing.T) {
	t.Parallel()
	e := h.StartECS(t)
	a := e.StartAgent(t, h.Options{Env: []string{
		"ECS_CLUSTER=", // unset: the agent uses "default" and must create it
		"ECS_RESERVED_MEMORY=256",
		"ECS_RESERVED_PORTS=[22,2375,2376,7777]",
		"ECS_RESERVED_PORTS_UDP=[5353]",
		`ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","syslog","awslogs"]`,
		"ECS_DISABLE_PRIVILEGED=true",
		"ECS_ENABLE_TASK_IAM_ROLE=true",
		`ECS_INSTANCE_ATTRIBUTES={"stack":"e2e","team":"agents"}`,
		`ECS_CONTAINER_INSTANCE_TAGS={"owner":"e2e-tests"}`,
	}})
	if a.ECSCluster != "default" {
		t.Fatalf("cluster %q, want default", a.ECSCluster)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := e.Client.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"default"}})
	if err != nil || len(cl.Clusters) != 1 || aws.ToString(cl.Clusters[0].Status) != "ACTIVE" {
		t.Fatalf("cluster default on the endpoint: %+v, failures %+v, err %v; want the agent to have created it", cl.Clusters, cl.Failures, err)
	}

	ci := a.Instance(t)
	arn := aws.ToString(ci.ContainerInstanceArn)
	res := map[string]types.Resource{}
	for _, r := range ci.RegisteredResources {
		res[aws.ToString(r.Name)] = r
	}
	if got, want := res["CPU"].IntegerValue, int32(runtime.NumCPU()*1024); got != want {
		t.Errorf("CPU = %d, want %d (cores × 1024)", got, want)
	}
	if got, want := res["MEMORY"].IntegerValue, int32(memTotalMiB(t)-256); got != want {
		t.Errorf("MEMORY = %d, want %d (host MiB − ECS_RESERVED_MEMORY)", got, want)
	}
	if got := sortedSet(res["PORTS"].StringSetValue); !slices.Equal(got, []string{"22", "2375", "2376", "7777"}) {
		t.Errorf("PORTS = %v, want the reserved TCP ports", got)
	}
	if got := sortedSet(res["PORTS_UDP"].StringSetValue); !slices.Equal(got, []string{"5353"}) {
		t.Errorf("PORTS_UDP = %v, want [5353]", got)
	}

	attrs := map[string]string{}
	for _, at := range ci.Attributes {
		attrs[aws.ToString(at.Name)] = aws.ToString(at.Value)
	}
	const capPrefix = "com.amazonaws.ecs.capability."
	apiMinor := dockerAPIMinor(t)
	want := []string{
		capPrefix + "docker-remote-api.1.17", capPrefix + fmt.Sprintf("docker-remote-api.1.%d", apiMinor),
		capPrefix + "logging-driver.json-file", capPrefix + "logging-driver.syslog", capPrefix + "logging-driver.awslogs",
		capPrefix + "task-iam-role", capPrefix + "ecr-auth",
		"ecs.capability.container-health-check", "ecs.capability.container-ordering",
	}
	for _, name := range want {
		if _, ok := attrs[name]; !ok {
			t.Errorf("attribute %s missing", name)
		}
	}
	for _, name := range []string{capPrefix + "privileged-container", capPrefix + fmt.Sprintf("docker-remote-api.1.%d", apiMinor+1)} {
		if _, ok := attrs[name]; ok {
			t.Errorf("attribute %s sent; want it absent", name)
		}
	}
	if attrs["stack"] != "e2e" || attrs["team"] != "agents" {
		t.Errorf("ECS_INSTANCE_ATTRIBUTES: stack=%q team=%q, want e2e and agents", attrs["stack"], attrs["team"])
	}
	tags := map[string]string{}
	for _, tag := range ci.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if len(tags) != 2 || tags["owner"] != "e2e-tests" || tags[apiv1.RegistrationTokenTag] == "" {
		t.Errorf("tags = %v, want owner=e2e-tests from ECS_CONTAINER_INSTANCE_TAGS and the registration token", tags)
	}
	if got, want := aws.ToString(ci.Ec2InstanceId), e.IMDS.Document().InstanceID; got != want {
		t.Errorf("ec2InstanceId = %q, want %q from the identity document", got, want)
	}
	if ci.VersionInfo == nil || aws.ToString(ci.VersionInfo.AgentVersion) == "" || !strings.Contains(aws.ToString(ci.VersionInfo.DockerVersion), dockerServerVersion(t)) {
		t.Errorf("versionInfo = %+v, want the agent's and the daemon's versions", ci.VersionInfo)
	}
	checkMetadataARN(t, a, arn)

	// The first start registered once more after creating the cluster;
	// each restart registers once, under the stored ARN.
	registers := e.CallCount("RegisterContainerInstance")
	restart := map[string]func(){"Stop then Start": func() { a.Stop() }, "kill -9 then Start": a.Kill}
	for _, how := range []string{"Stop then Start", "kill -9 then Start"} {
		restart[how]()
		a.Start()
		cis := a.Instances()
		if len(cis) != 1 || aws.ToString(cis[0].ContainerInstanceArn) != arn || aws.ToString(cis[0].Status) != "ACTIVE" {
			t.Errorf("after %s: container instances %v, want only %s, ACTIVE", how, instanceARNs(cis), arn)
		}
		checkMetadataARN(t, a, arn)
	}
	if got := e.CallCount("RegisterContainerInstance") - registers; got != 2 {
		t.Errorf("RegisterContainerInstance called %d times for two restarts, want 2", got)
	}
	if got := e.CallCount("CreateCluster"); got != 1 {
		t.Errorf("CreateCluster called %d times, want 1 (the first start only)", got)
	}

	// Deregistered behind its back, the agent does not come back as a new
	// instance on its own: it exits 5 (terminal, not restarted by the
	// systemd unit) naming the ARN, until told to register anew.
	if err := a.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := e.Client.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{
		Cluster: aws.String("default"), ContainerInstance: aws.String(arn), Force: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	code, out := a.RunToExit(30 * time.Second)
	if code != 5 || !strings.Contains(out, arn) || !strings.Contains(out, "--reregister") {
		t.Errorf("start after deregistration: exit %d, want 5 with the ARN and --reregister in:\n%s", code, out)
	}
	a.RunArgs = []string{"--reregister"}
	a.Start()
	a.RunArgs = nil
	var fresh string
	for _, ci := range a.Instances() {
		if aws.ToString(ci.Status) == "ACTIVE" {
			fresh = aws.ToString(ci.ContainerInstanceArn)
		}
	}
	if fresh == "" || fresh == arn {
		t.Fatalf("after --reregister the active instance is %q, want a new one (the deregistered one was %s)", fresh, arn)
	}
	a.Kill()
	a.Start()
	checkMetadataARN(t, a, fresh)
}

func TestECSRunTaskStopTaskAndEssentialExitReportedBesideAStaticTask(t *testing.T) {
	t.Parallel()
	e := h.StartECS(t)
	a := e.StartAgent(t, h.Options{})
	a.WriteTask("static.json", h.Task("static", h.App("app", "sleep")).JSON())
	svc := a.RunTask(h.Task("svc",
		h.App("web", "serve", "8080").Port(8080, 0),
		h.App("stubborn", "ignore-term").NotEssential(),
	))
	batch := a.RunTask(h.Task("batch",
		h.App("main", "exit", "3", "3s"),
		h.App("side", "sleep").NotEssential(),
	))

	t.Run("RunTask reported RUNNING with host port bindings", func(t *testing.T) {
		task := a.WaitECSTask(t, svc, startTimeout, h.IsRunning)
		rs := a.WaitReports(t, svc, reportTimeout, h.HasReport("task RUNNING"))
		running := rs[0]
		if running.Action != fakeecs.ActionSubmitTaskStateChange || running.Status != "RUNNING" {
			t.Fatalf("first report about svc is %q, want task RUNNING", h.ReportKinds(rs))
		}
		web := reportedContainer(t, running, "web")
		if web.Status != "RUNNING" || web.RuntimeID != h.Container(t, task, "web").DockerID {
			t.Errorf("web in the RUNNING report: %+v, want RUNNING with runtime id %s", web, h.Container(t, task, "web").DockerID)
		}
		if st := reportedContainer(t, running, "stubborn"); st.Status != "RUNNING" {
			t.Errorf("stubborn in the RUNNING report: %+v, want RUNNING", st)
		}
		hostPort := checkBindings(t, web.NetworkBindings, 8080, h.Container(t, task, "web").Ports)
		h.WaitHTTP(t, hostPort)
	})

	t.Run("essential container exit reported STOPPED with its exit code and reason", func(t *testing.T) {
		a.WaitECSTask(t, batch, startTimeout+reportTimeout, stoppedAndReported)
		rs := e.ReportsFor(batch)
		checkTransitions(t, "batch", rs, "main RUNNING", "side RUNNING", "task RUNNING",
			"main STOPPED exit=3", "side STOPPED exit=0", "task STOPPED")
		if stopped := rs[len(rs)-1]; !strings.Contains(strings.ToLower(stopped.Reason), "essential container") {
			t.Errorf("task STOPPED reason %q, want it to name the essential container's exit", stopped.Reason)
		}
		ft, _ := e.Task(batch)
		if aws.ToString(ft.LastStatus) != "STOPPED" || ft.StopCode != types.TaskStopCodeEssentialContainerExited {
			t.Errorf("endpoint's batch: lastStatus %s stopCode %s, want STOPPED EssentialContainerExited", aws.ToString(ft.LastStatus), ft.StopCode)
		}
	})

	t.Run("StopTask reported STOPPED with exit codes", func(t *testing.T) {
		a.StopTask(svc, "e2e: stop svc")
		task := a.WaitECSTask(t, svc, startTimeout+reportTimeout, stoppedAndReported)
		// web exits 0 on SIGTERM; stubborn ignores it and is killed after
		// the stop timeout.
		checkTransitions(t, "svc", e.ReportsFor(svc), "web RUNNING", "stubborn RUNNING", "task RUNNING",
			"web STOPPED exit=0", "stubborn STOPPED exit=137", "task STOPPED")
		for _, c := range task.Status.Containers {
			if d := inspect(t, c.DockerID); d.State.Running {
				t.Errorf("docker says %s still runs", c.Name)
			}
		}
	})

	t.Run("the static task runs and is never reported", func(t *testing.T) {
		static := a.WaitTask(t, "static.json", startTimeout, h.IsRunning)
		if static.Spec.Source == apiv1.SourceECS {
			t.Errorf("static task has source %s", static.Spec.Source)
		}
		submits := e.CallCount(fakeecs.ActionSubmitTaskStateChange) + e.CallCount(fakeecs.ActionSubmitContainerStateChange)
		all := e.Reports()
		// A report about a task the endpoint does not know would be refused
		// (and so not recorded): count the calls as well.
		if submits != len(all) {
			t.Errorf("%d Submit… calls but %d accepted reports: the agent reported a task ECS does not know", submits, len(all))
		}
		for _, r := range all {
			if r.TaskARN != svc && r.TaskARN != batch {
				t.Errorf("report about %s, want only the ECS tasks reported", r.TaskARN)
			}
		}
	})
}

func TestECSReportOwedWhenTheAgentIsKilledIsSentOnceAfterRestart(t *testing.T) {
	t.Parallel()
	e := h.StartECS(t)
	a := e.StartAgent(t, h.Options{})

	// RUNNING: the agent has the transition, the endpoint refuses it, the
	// agent dies, the endpoint heals, the agent comes back.
	tried, release := holdReports(t, e)
	arn := a.RunTask(h.Task("crash", h.App("app", "sleep"), h.App("web", "serve", "8080").Port(8080, 0)))
	before := a.WaitECSTask(t, arn, startTimeout, func(t apiv1.Task) (bool, string) {
		if ok, why := h.IsRunning(t); !ok {
			return false, why
		}
		return t.Status.ReportedStatus == "", "already reported " + string(t.Status.ReportedStatus)
	})
	a.WaitFor(t, "the agent to try reporting RUNNING", reportTimeout, func() (bool, string) { return tried() > 0, "no Submit… call yet" })
	a.Kill()
	release()
	a.Start()
	a.WaitECSTask(t, arn, reportTimeout, h.FullyReported)

	// STOPPED, the same way.
	tried, release = holdReports(t, e)
	a.StopTask(arn, "e2e: stop crash")
	a.WaitECSTask(t, arn, startTimeout, func(t apiv1.Task) (bool, string) {
		if ok, why := h.IsStopped(t); !ok {
			return false, why
		}
		return t.Status.ReportedStatus == apiv1.StatusRunning, "reported " + string(t.Status.ReportedStatus)
	})
	a.WaitFor(t, "the agent to try reporting STOPPED", reportTimeout, func() (bool, string) { return tried() > 0, "no Submit… call yet" })
	a.Kill()
	release()
	a.Start()
	after := a.WaitECSTask(t, arn, reportTimeout, stoppedAndReported)

	rs := e.ReportsFor(arn)
	checkTransitions(t, "the task", rs, "app RUNNING", "web RUNNING", "task RUNNING",
		"app STOPPED exit=0", "web STOPPED exit=0", "task STOPPED")
	if n, m := len(e.Reports()), len(rs); n != m {
		t.Errorf("%d reports accepted in all, %d about the one task", n, m)
	}
	for _, name := range []string{"app", "web"} {
		id := h.Container(t, before, name).DockerID
		if c, _ := h.ContainerTransition(rs, name, "RUNNING"); c.RuntimeID != id {
			t.Errorf("%s reported RUNNING with runtime id %q, want %s", name, c.RuntimeID, id)
		}
		if got := h.Container(t, after, name).DockerID; got != id {
			t.Errorf("%s is container %s after the restarts, was %s", name, got, id)
		}
	}
	if ft, _ := e.Task(arn); aws.ToString(ft.LastStatus) != "STOPPED" {
		t.Errorf("endpoint's task lastStatus %s, want STOPPED", aws.ToString(ft.LastStatus))
	}
}

// outage is a way for the ECS endpoint to be away: it begins, and end
// brings it back.
type outage struct {
	name  string
	begin func(t *testing.T, e *h.ECS) (end func())
}

var outages = []outage{
	{"down", func(t *testing.T, e *h.ECS) func() {
		e.Stop()
		return func() {
			if err := e.Restart(); err != nil {
				t.Fatalf("restart the endpoint: %v", err)
			}
		}
	}},
	{"throttling", func(t *testing.T, e *h.ECS) func() {
		// Every action: polls as well as reports.
		id, err := e.InjectFault(fakeecs.Fault{Kind: fakeecs.FaultThrottle})
		if err != nil {
			t.Fatal(err)
		}
		return func() { e.ClearFault(id) }
	}},
}

func TestECSEndpointDownOrThrottlingFor30sStopsNothingAndEveryReportArrivesAfter(t *testing.T) {
	t.Parallel()
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			t.Parallel()
			testOutage(t, o)
		})
	}
}

func testOutage(t *testing.T, o outage) {
	e := h.StartECS(t)
	a := e.StartAgent(t, h.Options{})

	long := a.RunTask(h.Task("long",
		h.App("web", "serve", "8080").Port(8080, 0),
		h.App("side", "exit", "2", "10s").NotEssential(),
	))
	a.WaitReports(t, long, reportTimeout, h.HasReport("task RUNNING"))
	// From here on every transition is held back: none may be reported
	// before the outage, so all of them must come through after it.
	_, release := holdReports(t, e)
	batch := a.RunTask(h.Task("batch", h.App("main", "exit", "4", "8s")))
	a.WaitECSTask(t, batch, startTimeout, h.IsRunning)

	end := o.begin(t, e)
	release()
	down := time.Now()
	web := h.Container(t, a.WaitECSTask(t, long, 5*time.Second, h.IsRunning), "web")
	webStarted := inspect(t, web.DockerID).State.StartedAt

	a.WaitFor(t, "batch stopped and long's side container exited while the endpoint is down", 25*time.Second, func() (bool, string) {
		b, _, err := a.ECSTask(batch)
		if err != nil {
			return false, err.Error()
		}
		l, _, err := a.ECSTask(long)
		if err != nil {
			return false, err.Error()
		}
		side := l.Status.ContainerStatusFor("side")
		return b.Status.KnownStatus == apiv1.StatusStopped && side != nil && side.KnownStatus == apiv1.StatusStopped,
			h.Describe(b) + " / " + h.Describe(l)
	})
	a.WaitFor(t, "30 s of outage ("+o.name+") with long's web container running throughout", 40*time.Second, func() (bool, string) {
		d := inspect(t, web.DockerID)
		if !d.State.Running || !d.State.StartedAt.Equal(webStarted) {
			t.Fatalf("web container %s during the outage: running=%v startedAt %s (was %s)", web.DockerID, d.State.Running, d.State.StartedAt, webStarted)
		}
		return time.Since(down) >= 30*time.Second, fmt.Sprintf("down for %s", time.Since(down).Round(time.Second))
	})
	end()
	healed := time.Now()

	lt := a.WaitECSTask(t, long, reportTimeout, h.FullyReported)
	a.WaitECSTask(t, batch, reportTimeout, stoppedAndReported)
	if all := e.Reports(); len(all) > 0 {
		t.Logf("outage (%s) %s; the last report arrived %s after the endpoint came back",
			o.name, healed.Sub(down).Round(time.Second), all[len(all)-1].Received.Sub(healed).Round(100*time.Millisecond))
	}
	for _, r := range e.Reports() {
		if r.Received.After(down) && r.Received.Before(healed) {
			t.Errorf("a report was accepted during the outage (%s), at %s", o.name, r.Received.Sub(down).Round(time.Millisecond))
		}
	}
	checkTransitions(t, "long", e.ReportsFor(long), "web RUNNING", "side RUNNING", "task RUNNING", "side STOPPED exit=2")
	checkTransitions(t, "batch", e.ReportsFor(batch), "main RUNNING", "task RUNNING", "main STOPPED exit=4", "task STOPPED")
	if got := h.Container(t, lt, "web"); got.DockerID != web.DockerID || got.KnownStatus != apiv1.StatusRunning || got.RestartCount != 0 {
		t.Errorf("long's web after the outage: %s %s restarts %d, want %s RUNNING never restarted", got.DockerID, got.KnownStatus, got.RestartCount, web.DockerID)
	}
	h.WaitHTTP(t, int(web.Ports[0].HostPort))
}

// stoppedAndReported holds once the task is STOPPED and the control plane
// acknowledged all of it.
func stoppedAndReported(t apiv1.Task) (bool, string) {
	if ok, why := h.IsStopped(t); !ok {
		return false, why
	}
	return h.FullyReported(t)
}

// holdReports makes the endpoint refuse every Submit… call with a 500
// until release is called; tried counts the calls it refused.
func holdReports(t *testing.T, e *h.ECS) (tried func() int, release func()) {
	t.Helper()
	var ids []int
	for _, action := range []string{fakeecs.ActionSubmitTaskStateChange, fakeecs.ActionSubmitContainerStateChange} {
		id, err := e.InjectFault(fakeecs.Fault{Kind: fakeecs.FaultServerError, Action: action})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	tried = func() int {
		n := 0
		for _, f := range e.Faults() {
			if slices.Contains(ids, f.ID) {
				n += f.Hits
			}
		}
		return n
	}
	release = func() {
		for _, id := range ids {
			e.ClearFault(id)
		}
	}
	return tried, release
}

// reportedContainer is a container's entry in a task report.
func reportedContainer(t *testing.T, r fakeecs.Report, name string) fakeecs.ContainerReport {
	t.Helper()
	for _, c := range r.Containers {
		if c.ContainerName == name {
			return c
		}
	}
	t.Fatalf("no container %s in the %s %s report: %+v", name, r.Action, r.Status, r.Containers)
	return fakeecs.ContainerReport{}
}

// checkTransitions checks that the reports about one task carry exactly
// the wanted transitions (as h.Transitions renders them), each once, in
// lifecycle order: a container's RUNNING before its STOPPED, the task's
// RUNNING before any STOPPED, the task's STOPPED last.
func checkTransitions(t *testing.T, what string, rs []fakeecs.Report, want ...string) {
	t.Helper()
	got := h.Transitions(rs)
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("transitions reported about %s: %q, want %q, each once", what, got, want)
		return
	}
	at := map[string]int{}
	for i, s := range got {
		at[s] = i
	}
	for i, s := range got {
		name, status, _ := strings.Cut(s, " ")
		if !strings.HasPrefix(status, "STOPPED") {
			continue
		}
		if r, ok := at["task RUNNING"]; ok && r > i {
			t.Errorf("transitions reported about %s: %q: %s before task RUNNING", what, got, s)
		}
		if r, ok := at[name+" RUNNING"]; ok && r > i {
			t.Errorf("transitions reported about %s: %q: %s before %s RUNNING", what, got, s, name)
		}
	}
	if i, ok := at["task STOPPED"]; ok && i != len(got)-1 {
		t.Errorf("transitions reported about %s: %q: task STOPPED is not the last", what, got)
	}
}

// checkBindings checks reported network bindings against the agent's own
// (Docker 20.10 binds 0.0.0.0 and ::, one binding each on the same host
// port) and returns the host port.
func checkBindings(t *testing.T, nb []types.NetworkBinding, containerPort int32, agent []apiv1.PortBinding) int {
	t.Helper()
	if len(nb) == 0 || len(agent) == 0 {
		t.Fatalf("reported bindings %+v, agent's %+v: want %d bound", nb, agent, containerPort)
	}
	hostPort := agent[0].HostPort
	for _, b := range nb {
		if aws.ToInt32(b.ContainerPort) != containerPort || aws.ToInt32(b.HostPort) != hostPort || b.Protocol != types.TransportProtocolTcp {
			t.Errorf("reported binding %s:%d->%d/%s, want host port %d for %d/tcp",
				aws.ToString(b.BindIP), aws.ToInt32(b.HostPort), aws.ToInt32(b.ContainerPort), b.Protocol, hostPort, containerPort)
		}
	}
	return int(hostPort)
}

// checkMetadataARN checks the introspection API's /v1/metadata against the
// registered ARN.
func checkMetadataARN(t *testing.T, a *h.ECSAgent, arn string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(a.URL("/v1/metadata"))
	if err != nil {
		t.Fatalf("GET /v1/metadata: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"ContainerInstanceArn":"`+arn+`"`) || !strings.Contains(string(body), `"Cluster":"`+a.ECSCluster+`"`) {
		t.Errorf("/v1/metadata = %s, want ContainerInstanceArn %s and Cluster %s", body, arn, a.ECSCluster)
	}
}

func instanceARNs(cis []types.ContainerInstance) []string {
	out := make([]string, 0, len(cis))
	for _, ci := range cis {
		out = append(out, aws.ToString(ci.ContainerInstanceArn))
	}
	return out
}

func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// memTotalMiB is MemTotal of /proc/meminfo in MiB.
func memTotalMiB(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb / 1024
		}
	}
	t.Fatal("no MemTotal in /proc/meminfo")
	return 0
}

func dockerServerVersion(t *testing.T) string {
	t.Helper()
	return dockerVersion(t, "{{.Server.Version}}")
}

// dockerAPIMinor is the minor of the daemon's API version (41 for 1.41).
func dockerAPIMinor(t *testing.T) int {
	t.Helper()
	v := dockerVersion(t, "{{.Server.APIVersion}}")
	_, minor, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(minor)
	if err != nil {
		t.Fatalf("daemon API version %q: %v", v, err)
	}
	return n
}

func dockerVersion(t *testing.T, format string) string {
	t.Helper()
	out, err := exec.Command("docker", "version", "--format", format).Output()
	if err != nil {
		t.Fatalf("docker version: %v", err)
	}
	return strings.TrimSpace(string(out))
}
