package controlplane

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	"github.com/ecs-agent/ecs-agent/internal/statechange"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

type env struct {
	t      *testing.T
	ctx    context.Context
	fake   *fakeecs.Server
	client *Client
	path   string
	store  *store.Bolt
}

func newEnv(t *testing.T) *env {
	t.Helper()
	// No metadata service in unit tests: the SDK must not wait for one.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	// The keys below may sign the ACS upgrade.
	srv, err := fakeecs.Start("127.0.0.1:0", fakeecs.Options{Credentials: map[string]string{"AKIDTEST": "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	c, err := NewClient(ctx, ClientOptions{
		Region: "us-west-2", AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", BackendHost: srv.URL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, fake: srv, client: c, path: filepath.Join(t.TempDir(), "agent.db")}
	e.open()
	t.Cleanup(func() { e.store.Close() })
	return e
}

func (e *env) open() {
	st, err := store.Open(e.path, store.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = st
}

func registration(cluster string) Registration {
	return Registration{
		Cluster: cluster, CPU: 2048, Memory: 3900, Ports: []int32{22, 51678}, PortsUDP: []int32{},
		DockerVersion: "27.3.1", DockerAPIVersion: "1.41", AgentVersion: "test",
		LoggingDrivers: []string{"json-file", "awslogs"}, TaskIAMRole: true,
		Attributes: map[string]string{"stack": "prod"}, Tags: map[string]string{"team": "a"},
	}
}

func (e *env) register(cluster string) string {
	e.t.Helper()
	arn, err := Register(e.ctx, e.client, e.store, registration(cluster))
	if err != nil {
		e.t.Fatal(err)
	}
	return arn
}

func (e *env) taskDef() string {
	e.t.Helper()
	td := e.fake.RegisterTaskDefinition(&ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("busybox"), Memory: aws.Int32(64), Essential: aws.Bool(true),
			Command:      []string{"sleep", "3600"},
			Environment:  []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("prod")}},
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80), Protocol: types.TransportProtocolTcp}},
			HealthCheck:  &types.HealthCheck{Command: []string{"CMD", "true"}, Interval: aws.Int32(5)},
			Ulimits:      []types.Ulimit{{Name: types.UlimitNameNofile, SoftLimit: 0, HardLimit: 1024}},
		}},
	})
	return aws.ToString(td.TaskDefinitionArn)
}

func (e *env) startTask(instance, def string, ov *types.TaskOverride) string {
	e.t.Helper()
	out, err := e.client.ECS.StartTask(e.ctx, &ecs.StartTaskInput{
		TaskDefinition: aws.String(def), ContainerInstances: []string{instance}, Overrides: ov,
	})
	if err != nil || len(out.Tasks) != 1 {
		e.t.Fatalf("StartTask: %v %+v", err, out)
	}
	return aws.ToString(out.Tasks[0].TaskArn)
}

func (e *env) poller(instance string) *Poller {
	return &Poller{Client: e.client, Store: e.store, Cluster: "default", Instance: instance, Log: logr.Discard()}
}

func (e *env) task(arn string) *apiv1.Task {
	e.t.Helper()
	var task apiv1.Task
	if err := e.store.Get(e.ctx, apiv1.TaskNameFromARN(arn), &task); err != nil {
		e.t.Fatalf("task %s: %v", arn, err)
	}
	return &task
}

func TestRegisterSendsResourcesAndCapabilitiesAndCreatesDefaultCluster(t *testing.T) {
	e := newEnv(t)
	arn := e.register("default")
	insts := e.fake.ContainerInstances()
	if len(insts) != 1 || aws.ToString(insts[0].ContainerInstanceArn) != arn {
		t.Fatalf("fake holds %d instances, want the one registered (%s)", len(insts), arn)
	}
	ci := insts[0]
	res := map[string]types.Resource{}
	for _, r := range ci.RegisteredResources {
		res[aws.ToString(r.Name)] = r
	}
	if res["CPU"].IntegerValue != 2048 || res["MEMORY"].IntegerValue != 3900 ||
		!slices.Equal(res["PORTS"].StringSetValue, []string{"22", "51678"}) {
		t.Fatalf("registered resources %+v", ci.RegisteredResources)
	}
	attrs := map[string]string{}
	for _, a := range ci.Attributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	for _, want := range []string{
		"com.amazonaws.ecs.capability.docker-remote-api.1.17", "com.amazonaws.ecs.capability.docker-remote-api.1.41",
		"com.amazonaws.ecs.capability.logging-driver.awslogs", "com.amazonaws.ecs.capability.privileged-container",
		"com.amazonaws.ecs.capability.task-iam-role", "com.amazonaws.ecs.capability.ecr-auth",
		"ecs.capability.container-health-check", "ecs.capability.container-ordering", "stack",
	} {
		if _, ok := attrs[want]; !ok {
			t.Errorf("attribute %s not registered", want)
		}
	}
	if _, ok := attrs["com.amazonaws.ecs.capability.docker-remote-api.1.42"]; ok {
		t.Error("docker-remote-api.1.42 registered for a daemon serving 1.41")
	}
	if attrs["stack"] != "prod" {
		t.Errorf("ECS_INSTANCE_ATTRIBUTES stack=%q, want prod", attrs["stack"])
	}
	if aws.ToString(ci.VersionInfo.AgentVersion) != "test" {
		t.Errorf("version info %+v", ci.VersionInfo)
	}
}

func TestRegisterAfterRestartKeepsTheSameARN(t *testing.T) {
	e := newEnv(t)
	first := e.register("default")
	e.store.Close()
	e.open()
	if again := e.register("default"); again != first {
		t.Fatalf("after a restart the instance registered as %s, want %s again", again, first)
	}
	if n := len(e.fake.ContainerInstances()); n != 1 {
		t.Fatalf("fake holds %d container instances, want 1", n)
	}
}

// A deregistered instance is not registered again behind the operator's
// back: the error names the ARN and the way back, which registers anew.
func TestRegisterOfADeregisteredInstanceStopsUntilToldToRegisterAnew(t *testing.T) {
	e := newEnv(t)
	first := e.register("default")
	if _, err := e.client.ECS.DeregisterContainerInstance(e.ctx, &ecs.DeregisterContainerInstanceInput{
		Cluster: aws.String("default"), ContainerInstance: aws.String(first), Force: aws.Bool(true),
	}); err != nil {
		t.Fatal(err)
	}
	_, err := Register(e.ctx, e.client, e.store, registration("default"))
	var perm *PermanentError
	if !errors.As(err, &perm) || !strings.Contains(err.Error(), first) || !strings.Contains(err.Error(), "--reregister") {
		t.Fatalf("err = %v, want a permanent error naming %s and --reregister", err, first)
	}
	reg := registration("default")
	reg.New = true
	second, err := Register(e.ctx, e.client, e.store, reg)
	if err != nil || second == first {
		t.Fatalf("registering anew: %s, %v; want a new ARN", second, err)
	}
	if again := e.register("default"); again != second {
		t.Fatalf("after registering anew the next start registered as %s, want %s", again, second)
	}
}

func TestRegisterWithMissingClusterNamesIt(t *testing.T) {
	e := newEnv(t)
	_, err := Register(e.ctx, e.client, e.store, registration("prod-cluster"))
	var perm *PermanentError
	if !errors.As(err, &perm) || !strings.Contains(err.Error(), `"prod-cluster"`) {
		t.Fatalf("err = %v, want a permanent error naming the cluster", err)
	}
}

func TestPollWritesNewTasksWithOverridesAndDescribesEachOnce(t *testing.T) {
	e := newEnv(t)
	inst := e.register("default")
	def := e.taskDef()
	a := e.startTask(inst, def, &types.TaskOverride{
		TaskRoleArn: aws.String("arn:aws:iam::123456789012:role/app"),
		ContainerOverrides: []types.ContainerOverride{{
			Name: aws.String("app"), Command: []string{"sleep", "5"}, Memory: aws.Int32(128),
			Environment: []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("test")}, {Name: aws.String("X"), Value: aws.String("1")}},
		}},
	})
	b := e.startTask(inst, def, nil)
	p := e.poller(inst)
	e.fake.ResetCalls()
	for range 3 {
		if err := p.Poll(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	ta, tb := e.task(a), e.task(b)
	app := ta.Spec.ContainerSpecFor("app")
	if ta.Spec.DefinitionError != "" || ta.Spec.Source != apiv1.SourceECS || ta.Spec.DesiredStatus != apiv1.StatusRunning {
		t.Fatalf("task spec %+v", ta.Spec)
	}
	if !slices.Equal(app.Command, []string{"sleep", "5"}) || *app.Memory != 128 || ta.Spec.TaskRoleArn == "" ||
		!slices.Equal(app.Environment, []apiv1.KeyValue{{Name: "MODE", Value: "test"}, {Name: "X", Value: "1"}}) {
		t.Fatalf("overrides not applied: %+v role %q", app, ta.Spec.TaskRoleArn)
	}
	if got := tb.Spec.ContainerSpecFor("app"); !slices.Equal(got.Command, []string{"sleep", "3600"}) || got.HealthCheck == nil {
		t.Fatalf("task without overrides: %+v", got)
	}
	if n := e.fake.CallCount("DescribeTasks"); n != 1 {
		t.Errorf("DescribeTasks called %d times over 3 polls, want 1 (only while tasks were new)", n)
	}
	if n := e.fake.CallCount("DescribeTaskDefinition"); n != 1 {
		t.Errorf("DescribeTaskDefinition called %d times for one definition, want 1", n)
	}
	if n := e.fake.CallCount("ListTasks"); n != 6 {
		t.Errorf("ListTasks called %d times over 3 polls, want 6", n)
	}
}

func TestPollStopsTasksECSStoppedOrForgot(t *testing.T) {
	e := newEnv(t)
	inst := e.register("default")
	def := e.taskDef()
	a := e.startTask(inst, def, nil)
	b := e.startTask(inst, def, nil)
	p := e.poller(inst)
	if err := p.Poll(e.ctx); err != nil {
		t.Fatal(err)
	}
	if !e.fake.StopTask(a, "user asked") {
		t.Fatal("fake did not stop the task")
	}
	// b vanishes from both lists: a task of ours ECS no longer lists.
	ghost := &apiv1.Task{Spec: apiv1.TaskSpec{Arn: "arn:aws:ecs:us-west-2:123456789012:task/default/ghost", Source: apiv1.SourceECS, DesiredStatus: apiv1.StatusRunning}}
	ghost.Name = "ghost"
	if err := e.store.Create(e.ctx, ghost); err != nil {
		t.Fatal(err)
	}
	if err := p.Poll(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.task(ghost.Spec.Arn).Spec.DesiredStatus; got != apiv1.StatusRunning {
		t.Errorf("task left out of one ListTasks answer is desired %s, want RUNNING until a second poll", got)
	}
	if err := p.Poll(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.task(a).Spec.DesiredStatus; got != apiv1.StatusStopped {
		t.Errorf("task stopped in ECS is desired %s, want STOPPED", got)
	}
	if got := e.task(b).Spec.DesiredStatus; got != apiv1.StatusRunning {
		t.Errorf("task still running in ECS is desired %s, want RUNNING", got)
	}
	if got := e.task(ghost.Spec.Arn).Spec.DesiredStatus; got != apiv1.StatusStopped {
		t.Errorf("task ECS no longer lists is desired %s, want STOPPED", got)
	}
}

// TestPollKeepsATaskListTasksLeftOut: ListTasks is eventually consistent;
// answers that leave out a task DescribeTasks still has running never stop
// it.
func TestPollKeepsATaskListTasksLeftOut(t *testing.T) {
	e := newEnv(t)
	inst := e.register("default")
	a := e.startTask(inst, e.taskDef(), nil)
	p := e.poller(inst)
	if err := p.Poll(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.fake.UnlistTask(a, 2) // the next two polls' lists of RUNNING tasks
	for range 2 {
		if err := p.Poll(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.task(a).Spec.DesiredStatus; got != apiv1.StatusRunning {
		t.Fatalf("running task left out of ListTasks twice is desired %s, want RUNNING (DescribeTasks has it running)", got)
	}
}

// TestPollNeverRecreatesATaskThatRanHere: the agent ran and cleaned up the
// task but ECS refused its STOPPED report, so ECS still lists it running;
// its report (a tombstone) keeps the poller from starting it again.
func TestPollNeverRecreatesATaskThatRanHere(t *testing.T) {
	e := newEnv(t)
	inst := e.register("default")
	a := e.startTask(inst, e.taskDef(), nil)
	tomb := &apiv1.TaskReport{}
	tomb.Name = apiv1.TaskNameFromARN(a)
	tomb.Status.TaskStatus = apiv1.StatusRunning
	tomb.Status.RefusedAt = &metav1.MicroTime{Time: time.Now()}
	if err := e.store.Create(e.ctx, tomb); err != nil {
		t.Fatal(err)
	}
	if err := e.poller(inst).Poll(e.ctx); err != nil {
		t.Fatal(err)
	}
	var task apiv1.Task
	if err := e.store.Get(e.ctx, tomb.Name, &task); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("task with a tombstone created again: %v (desired %s)", err, task.Spec.DesiredStatus)
	}
}

func TestPollWhileDrainingRefusesNewTasks(t *testing.T) {
	e := newEnv(t)
	inst := e.register("default")
	def := e.taskDef()
	before := e.startTask(inst, def, nil)
	p := e.poller(inst)
	if err := p.Poll(e.ctx); err != nil {
		t.Fatal(err)
	}
	// Placed just before the instance started draining, first seen after.
	after := e.startTask(inst, def, nil)
	e.fake.SetInstanceStatus(inst, types.ContainerInstanceStatusDraining)
	if err := p.Poll(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.task(before).Spec; got.DefinitionError != "" || got.DesiredStatus != apiv1.StatusRunning {
		t.Errorf("task placed before draining: %+v, want it left running", got)
	}
	if got := e.task(after).Spec.DefinitionError; got != ReasonDraining {
		t.Errorf("task placed while draining has error %q, want %q", got, ReasonDraining)
	}
	var ci apiv1.ContainerInstance
	if err := e.store.Get(e.ctx, apiv1.ContainerInstanceName, &ci); err != nil || ci.Status.Status != InstanceDraining {
		t.Errorf("container instance status %q (%v), want DRAINING", ci.Status.Status, err)
	}
}

func TestPollBacksOffAndRecoversFromThrottling(t *testing.T) {
	e := newEnv(t)
	inst := e.register("default")
	p := e.poller(inst)
	p.Interval = time.Second
	e.fake.ThrottleFor("", time.Hour)
	err := p.Poll(e.ctx)
	if err == nil {
		t.Fatal("poll succeeded while every call was throttled")
	}
	waits := []time.Duration{p.next(err), p.next(err), p.next(err), p.next(err), p.next(err), p.next(err), p.next(err), p.next(err)}
	if waits[0] > time.Second || waits[3] < 6*time.Second || waits[7] > maxPollBackoff {
		t.Fatalf("backoff waits %v: want from the interval, doubling, capped at %s", waits, maxPollBackoff)
	}
	e.fake.ClearFaults()
	if err := p.Poll(e.ctx); err != nil {
		t.Fatalf("poll after throttling ended: %v", err)
	}
	if w := p.next(nil); w > time.Second {
		t.Fatalf("wait after a good poll %s, want the interval again", w)
	}
}

func TestSubmitterSendsReportsTheFakeRecords(t *testing.T) {
	e := newEnv(t)
	inst := e.register("default")
	arn := e.startTask(inst, e.taskDef(), nil)
	s := &Submitter{Client: e.client, Log: logr.Discard()}
	code := int32(137)
	now := time.Now()
	if err := s.SubmitTaskState(e.ctx, statechange.Task{
		Cluster: "default", TaskArn: arn, Status: apiv1.StatusRunning, PullStartedAt: &now,
		Containers: []statechange.Container{{ContainerName: "app", RuntimeID: "abc", Status: apiv1.StatusRunning,
			NetworkBindings: []apiv1.PortBinding{{ContainerPort: 80, HostPort: 32768, Protocol: "tcp"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.SubmitContainerState(e.ctx, statechange.Container{
		Cluster: "default", TaskArn: arn, ContainerName: "app", Status: apiv1.StatusStopped, ExitCode: &code, Reason: "killed",
	}); err != nil {
		t.Fatal(err)
	}
	reps := e.fake.ReportsFor(arn)
	if len(reps) != 2 || reps[0].Status != "RUNNING" || len(reps[0].Containers) != 1 ||
		aws.ToInt32(reps[0].Containers[0].NetworkBindings[0].HostPort) != 32768 ||
		reps[1].ContainerName != "app" || reps[1].Status != "STOPPED" || *reps[1].ExitCode != 137 {
		t.Fatalf("fake recorded %+v", reps)
	}
}

func TestNewClientWithoutRegionSaysWhatIsMissing(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	_, err := NewClient(context.Background(), ClientOptions{})
	if !errors.Is(err, ErrNoRegion) || !strings.Contains(err.Error(), "ECS_OFFLINE") {
		t.Fatalf("err = %v, want ErrNoRegion mentioning ECS_OFFLINE", err)
	}
}

// TestAHungECSCallEnds: an endpoint that never answers (here: answers after
// a minute) fails the call after each attempt's timeout, instead of holding
// the poller or the reporter.
func TestAHungECSCallEnds(t *testing.T) {
	e := newEnv(t)
	c, err := NewClient(e.ctx, ClientOptions{
		Region: "us-west-2", AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", BackendHost: e.fake.URL(),
		CallTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.fake.AddLatency("ListClusters", time.Minute)
	done := make(chan error, 1)
	go func() {
		_, err := c.ECS.ListClusters(context.Background(), &ecs.ListClustersInput{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a call the endpoint never answered succeeded")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a call the endpoint never answered was still waiting after 20s")
	}
}

// TestRegistrationInterruptedBeforeItsARNWasStoredIsFoundAgain: the agent
// died between ECS's answer to RegisterContainerInstance and the write of
// the ARN; the next start finds that instance by the registration token it
// persisted first and tagged it with, and registers no second one.
func TestRegistrationInterruptedBeforeItsARNWasStoredIsFoundAgain(t *testing.T) {
	e := newEnv(t)
	// The interrupted attempt: its token reached the store, and ECS
	// registered an instance tagged with it, but its ARN never came back.
	ci := &apiv1.ContainerInstance{}
	ci.Name = apiv1.ContainerInstanceName
	ci.Spec.Cluster = "default"
	ci.Status.RegistrationToken = "token-of-the-lost-answer"
	if err := e.store.Create(e.ctx, ci); err != nil {
		t.Fatal(err)
	}
	e.fake.CreateCluster("default")
	in := registerInput(registration("default"), e.client)
	in.Tags = append(in.Tags, types.Tag{Key: aws.String(apiv1.RegistrationTokenTag), Value: aws.String("token-of-the-lost-answer")})
	out, err := e.client.ECS.RegisterContainerInstance(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	lost := aws.ToString(out.ContainerInstance.ContainerInstanceArn)

	arn := e.register("default")
	if arn != lost {
		t.Fatalf("registered %s, want the interrupted registration's %s", arn, lost)
	}
	if n := len(e.fake.ContainerInstances()); n != 1 {
		t.Fatalf("%d container instances in the cluster, want 1 (no orphan)", n)
	}
	var got apiv1.ContainerInstance
	if err := e.store.Get(e.ctx, apiv1.ContainerInstanceName, &got); err != nil || got.Status.Arn != lost || got.Status.RegistrationToken != "" {
		t.Fatalf("stored instance %+v (%v), want the ARN and no token left", got.Status, err)
	}
}
