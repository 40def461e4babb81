package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	"github.com/ecs-agent/ecs-agent/hack/fakeimds"
)

// ECSRegion is the region of the fake endpoints and of every agent pointed
// at them.
const ECSRegion = "us-west-2"

// Dummy keys: the fake ECS endpoint checks no signature on its API, only
// on the ACS upgrade, where it knows these.
const (
	fakeAccessKeyID     = "AKIDE2EFAKEKEY"
	fakeSecretAccessKey = "e2e-fake-secret"
)

// ECS is a fake Amazon ECS endpoint (hack/fakeecs) and a fake EC2 instance
// metadata service (hack/fakeimds), both in the test process on loopback,
// plus an aws-sdk-go-v2 ECS client that the test drives the endpoint with
// (RegisterTaskDefinition, RunTask, StopTask over the real wire protocol).
// Fault injection, Stop/Restart and the recorded reports come with the
// embedded server.
type ECS struct {
	*fakeecs.Server
	IMDS    *fakeimds.Fake
	IMDSURL string
	Client  *ecs.Client
	tb      testing.TB
}

// StartECS starts the fake endpoints for one test, as an ECS-compatible
// endpoint without ACS (the agent polls); they stop when it ends.
func StartECS(tb testing.TB) *ECS {
	tb.Helper()
	return startECS(tb, fakeecs.Options{NoACS: true})
}

// StartECSWithACS starts the fake endpoints with ACS, as real ECS: tasks
// are pushed over the agent's session and polling is the backstop. The
// fake heartbeats every second, so that tests see heartbeat acks soon.
func StartECSWithACS(tb testing.TB) *ECS {
	tb.Helper()
	return startECS(tb, fakeecs.Options{ACSHeartbeat: time.Second})
}

func startECS(tb testing.TB, opts fakeecs.Options) *ECS {
	tb.Helper()
	opts.Region = ECSRegion
	opts.Credentials = map[string]string{fakeAccessKeyID: fakeSecretAccessKey}
	srv, err := fakeecs.Start("127.0.0.1:0", opts)
	if err != nil {
		tb.Fatalf("fake ECS endpoint: %v", err)
	}
	tb.Cleanup(srv.Stop)
	md := fakeimds.New(fakeimds.Options{Document: fakeimds.Document{Region: ECSRegion}})
	mdSrv := httptest.NewServer(md)
	tb.Cleanup(mdSrv.Close)
	client := ecs.New(ecs.Options{
		Region:       ECSRegion,
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(fakeAccessKeyID, fakeSecretAccessKey, ""),
	})
	return &ECS{Server: srv, IMDS: md, IMDSURL: mdSrv.URL, Client: client, tb: tb}
}

// ECSAgent is an agent connected to the fake ECS endpoint.
type ECSAgent struct {
	*Agent
	ECS *ECS
	// ECSCluster is the cluster the agent registers with: Agent.Cluster
	// unless the test set ECS_CLUSTER ("default" when set empty).
	ECSCluster string
}

// NewAgent prepares (without starting) an agent pointed at the fake
// endpoints: ECS_OFFLINE=false, ECS_BACKEND_HOST, the region, dummy keys,
// the fake IMDS, and a poll every second. opts.Env comes after these, so a
// test can override any of them. The agent's cluster is created on the
// endpoint unless it is "default", which the agent must create itself.
func (e *ECS) NewAgent(tb testing.TB, opts Options) *ECSAgent {
	tb.Helper()
	user := opts.Env
	opts.Env = append([]string{
		"ECS_OFFLINE=false",
		"ECS_BACKEND_HOST=" + e.URL(),
		"ECS_POLL_INTERVAL=1s",
		"AWS_DEFAULT_REGION=" + ECSRegion,
		"AWS_REGION=" + ECSRegion,
		"AWS_ACCESS_KEY_ID=" + fakeAccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + fakeSecretAccessKey,
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_EC2_METADATA_DISABLED=",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + e.IMDSURL,
	}, user...)
	a := &ECSAgent{Agent: New(tb, opts), ECS: e}
	a.ECSCluster = a.Cluster
	for _, kv := range user {
		if v, ok := strings.CutPrefix(kv, "ECS_CLUSTER="); ok {
			a.ECSCluster = v
		}
	}
	if a.ECSCluster == "" {
		a.ECSCluster = "default"
	}
	if a.ECSCluster != "default" {
		e.CreateCluster(a.ECSCluster)
	}
	return a
}

// StartAgent is NewAgent then Start (which waits until the agent is
// ready, i.e. registered).
func (e *ECS) StartAgent(tb testing.TB, opts Options) *ECSAgent {
	tb.Helper()
	a := e.NewAgent(tb, opts)
	a.Start()
	return a
}

func (e *ECS) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 20*time.Second)
}

// RegisterTaskDefinition registers def with the endpoint through the SDK
// and returns its ARN.
func (e *ECS) RegisterTaskDefinition(def TaskDefinition) string {
	e.tb.Helper()
	var in ecs.RegisterTaskDefinitionInput
	// The harness's definition is the register-task-definition JSON, whose
	// member names the SDK's input fields match (case-insensitively).
	if err := json.Unmarshal([]byte(def.JSON()), &in); err != nil {
		e.tb.Fatalf("task definition %s as RegisterTaskDefinitionInput: %v", def.Family, err)
	}
	ctx, cancel := e.ctx()
	defer cancel()
	out, err := e.Client.RegisterTaskDefinition(ctx, &in)
	if err != nil {
		e.tb.Fatalf("RegisterTaskDefinition %s: %v", def.Family, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// RunTask registers def and runs one task of it on the agent's cluster,
// returning the task's ARN.
func (a *ECSAgent) RunTask(def TaskDefinition) string {
	a.tb.Helper()
	arn := a.ECS.RegisterTaskDefinition(def)
	ctx, cancel := a.ECS.ctx()
	defer cancel()
	out, err := a.ECS.Client.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(a.ECSCluster), TaskDefinition: aws.String(arn)})
	if err != nil {
		a.tb.Fatalf("RunTask %s on %s: %v", arn, a.ECSCluster, err)
	}
	if len(out.Tasks) != 1 {
		a.tb.Fatalf("RunTask %s on %s: %d tasks, failures %+v", arn, a.ECSCluster, len(out.Tasks), out.Failures)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

// StopTask stops a task through the SDK, as an operator would.
func (a *ECSAgent) StopTask(taskARN, reason string) {
	a.tb.Helper()
	ctx, cancel := a.ECS.ctx()
	defer cancel()
	if _, err := a.ECS.Client.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(a.ECSCluster), Task: aws.String(taskARN), Reason: aws.String(reason)}); err != nil {
		a.tb.Fatalf("StopTask %s: %v", taskARN, err)
	}
}

// Instances returns the container instances registered in the agent's
// cluster, in registration order.
func (a *ECSAgent) Instances() []types.ContainerInstance {
	var out []types.ContainerInstance
	for _, ci := range a.ECS.ContainerInstances() {
		if strings.Contains(aws.ToString(ci.ContainerInstanceArn), ":container-instance/"+a.ECSCluster+"/") {
			out = append(out, ci)
		}
	}
	return out
}

// Instance returns the one container instance of the agent's cluster,
// failing tb if there is not exactly one.
func (a *ECSAgent) Instance(tb testing.TB) types.ContainerInstance {
	tb.Helper()
	cis := a.Instances()
	if len(cis) != 1 {
		tb.Fatalf("%d container instances in cluster %s, want 1", len(cis), a.ECSCluster)
	}
	return cis[0]
}

// ECSTask returns the agent's task of an ECS task ARN; ok is false when
// the agent has none.
func (a *ECSAgent) ECSTask(arn string) (task apiv1.Task, ok bool, err error) {
	tasks, err := a.Tasks()
	if err != nil {
		return task, false, err
	}
	for _, t := range tasks {
		if t.Spec.Arn == arn {
			return t, true, nil
		}
	}
	return task, false, nil
}

// WaitECSTask polls `get tasks` until the agent's task of arn satisfies
// cond, and returns it.
func (a *ECSAgent) WaitECSTask(tb testing.TB, arn string, timeout time.Duration, cond func(apiv1.Task) (bool, string)) apiv1.Task {
	tb.Helper()
	var found apiv1.Task
	a.WaitFor(tb, "agent's task "+arn, timeout, func() (bool, string) {
		t, ok, err := a.ECSTask(arn)
		switch {
		case err != nil:
			return false, err.Error()
		case !ok:
			return false, "the agent has no such task yet"
		}
		found = t
		return cond(t)
	})
	return found
}

// WaitReports polls the endpoint's reports about a task until cond holds,
// and returns them.
func (a *ECSAgent) WaitReports(tb testing.TB, taskARN string, timeout time.Duration, cond func([]fakeecs.Report) (bool, string)) []fakeecs.Report {
	tb.Helper()
	var rs []fakeecs.Report
	a.WaitFor(tb, "reports about "+taskARN, timeout, func() (bool, string) {
		rs = a.ECS.ReportsFor(taskARN)
		ok, why := cond(rs)
		return ok, fmt.Sprintf("%s; reports %q", why, ReportKinds(rs))
	})
	return rs
}

// HasReport holds once a report of the kind (as ReportKinds renders it)
// has arrived.
func HasReport(kind string) func([]fakeecs.Report) (bool, string) {
	return func(rs []fakeecs.Report) (bool, string) {
		for _, k := range ReportKinds(rs) {
			if k == kind {
				return true, ""
			}
		}
		return false, "no " + kind + " report yet"
	}
}

// ReportKinds renders each report as what it is about: "task RUNNING",
// "container web STOPPED".
func ReportKinds(rs []fakeecs.Report) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		if r.Action == fakeecs.ActionSubmitContainerStateChange {
			out = append(out, "container "+r.ContainerName+" "+r.Status)
		} else {
			out = append(out, "task "+r.Status)
		}
	}
	return out
}

// FullyReported holds when the control plane acknowledged every
// transition the task went through: after it, the agent owes no report,
// so nothing more can arrive about the task's current state.
func FullyReported(t apiv1.Task) (bool, string) {
	want := t.Status.KnownStatus
	if want != apiv1.StatusRunning && want != apiv1.StatusStopped {
		return false, Describe(t)
	}
	if t.Status.ReportedStatus != want {
		return false, fmt.Sprintf("reported %q, known %s: %s", t.Status.ReportedStatus, want, Describe(t))
	}
	for _, c := range t.Status.Containers {
		ran := c.StartedAt != nil || c.KnownStatus == apiv1.StatusRunning
		if ran && c.ReportedStatus != c.KnownStatus {
			return false, fmt.Sprintf("container %s reported %q, known %s", c.Name, c.ReportedStatus, c.KnownStatus)
		}
	}
	return true, ""
}

// Transitions flattens reports into the transitions they carry, in the
// order the endpoint received them: "web RUNNING", "main STOPPED exit=3",
// "task RUNNING". A task report's containers come just before the task's
// own entry. Whether a container's change travelled alone
// (SubmitContainerStateChange) or inside a task change is the agent's
// choice of timing; the transitions are what must arrive once each.
func Transitions(rs []fakeecs.Report) []string {
	var out []string
	entry := func(name, status string, exit *int32) string {
		s := name + " " + status
		if status == "STOPPED" && exit != nil {
			s += fmt.Sprintf(" exit=%d", *exit)
		}
		return s
	}
	for _, r := range rs {
		if r.Action == fakeecs.ActionSubmitContainerStateChange {
			out = append(out, entry(r.ContainerName, r.Status, r.ExitCode))
			continue
		}
		for _, c := range r.Containers {
			out = append(out, entry(c.ContainerName, c.Status, c.ExitCode))
		}
		out = append(out, "task "+r.Status)
	}
	return out
}

// ContainerTransition finds a container's change of status among the
// reports, alone or inside a task change.
func ContainerTransition(rs []fakeecs.Report, name, status string) (fakeecs.ContainerReport, bool) {
	for _, r := range rs {
		if r.Action == fakeecs.ActionSubmitContainerStateChange && r.ContainerName == name && r.Status == status {
			return fakeecs.ContainerReport{ContainerName: name, RuntimeID: r.RuntimeID, Status: r.Status,
				ExitCode: r.ExitCode, Reason: r.Reason, NetworkBindings: r.NetworkBindings}, true
		}
		for _, c := range r.Containers {
			if c.ContainerName == name && c.Status == status {
				return c, true
			}
		}
	}
	return fakeecs.ContainerReport{}, false
}
