package fakeecs_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
)

// newClient is the real SDK client pointed at the fake, as the agent points it with ECS_BACKEND_HOST.
func newClient(t *testing.T, srv *fakeecs.Server, maxAttempts int) *ecs.Client {
	t.Helper()
	return ecs.New(ecs.Options{
		Region:       "us-west-2",
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.MaxBackoff = 20 * time.Millisecond
		}),
	})
}

func startFake(t *testing.T) *fakeecs.Server {
	t.Helper()
	srv, err := fakeecs.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// setup creates the default cluster, registers one instance and a two-container task definition.
func setup(t *testing.T, c *ecs.Client) (instanceARN string, td types.TaskDefinition) {
	t.Helper()
	if _, err := c.CreateCluster(ctx(t), &ecs.CreateClusterInput{ClusterName: aws.String("default")}); err != nil {
		t.Fatalf("CreateCluster: %v", err)
	}
	reg, err := c.RegisterContainerInstance(ctx(t), &ecs.RegisterContainerInstanceInput{
		InstanceIdentityDocument: aws.String(`{"instanceId":"i-0123456789abcdef0","region":"us-west-2"}`),
		TotalResources: []types.Resource{
			{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 2048},
			{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 3768},
			{Name: aws.String("PORTS"), Type: aws.String("STRINGSET"), StringSetValue: []string{"22", "2375", "51678"}},
		},
		VersionInfo: &types.VersionInfo{AgentVersion: aws.String("1.0.0"), DockerVersion: aws.String("DockerVersion: 27.0")},
		Attributes:  []types.Attribute{{Name: aws.String("com.amazonaws.ecs.capability.docker-remote-api.1.17")}},
	})
	if err != nil {
		t.Fatalf("RegisterContainerInstance: %v", err)
	}
	out, err := c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String("busybox"), Memory: aws.Int32(64), Essential: aws.Bool(true),
				Command:      []string{"sleep", "3600"},
				PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(0), Protocol: types.TransportProtocolTcp}}},
			{Name: aws.String("sidecar"), Image: aws.String("busybox"), Cpu: 128, Memory: aws.Int32(32), Essential: aws.Bool(false)},
		},
	})
	if err != nil {
		t.Fatalf("RegisterTaskDefinition: %v", err)
	}
	return aws.ToString(reg.ContainerInstance.ContainerInstanceArn), *out.TaskDefinition
}

func TestRegisterRunListDescribeSubmitFlow(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)
	inst, td := setup(t, c)

	if want := "arn:aws:ecs:us-west-2:123456789012:container-instance/default/"; len(inst) != len(want)+32 || inst[:len(want)] != want {
		t.Fatalf("container instance ARN %q, want %s<32 hex>", inst, want)
	}
	if got := aws.ToString(td.TaskDefinitionArn); got != "arn:aws:ecs:us-west-2:123456789012:task-definition/web:1" {
		t.Fatalf("task definition ARN %q", got)
	}
	desc, err := c.DescribeTaskDefinition(ctx(t), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
	if err != nil {
		t.Fatalf("DescribeTaskDefinition: %v", err)
	}
	if got := desc.TaskDefinition.ContainerDefinitions[0].PortMappings[0]; aws.ToInt32(got.ContainerPort) != 80 || got.Protocol != types.TransportProtocolTcp {
		t.Fatalf("port mapping round trip: %+v", got)
	}

	run, err := c.RunTask(ctx(t), &ecs.RunTaskInput{
		TaskDefinition: aws.String("web:1"),
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{
			Name: aws.String("app"), Command: []string{"sleep", "5"},
			Environment: []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("test")}},
		}}},
	})
	if err != nil {
		t.Fatalf("RunTask: %v", err)
	}
	if len(run.Tasks) != 1 || len(run.Failures) != 0 {
		t.Fatalf("RunTask: %d tasks, failures %+v", len(run.Tasks), run.Failures)
	}
	task := run.Tasks[0]
	taskARN := aws.ToString(task.TaskArn)
	if aws.ToString(task.ContainerInstanceArn) != inst || aws.ToString(task.LastStatus) != "PENDING" || aws.ToString(task.DesiredStatus) != "RUNNING" {
		t.Fatalf("new task: instance %s last %s desired %s", aws.ToString(task.ContainerInstanceArn), aws.ToString(task.LastStatus), aws.ToString(task.DesiredStatus))
	}
	if task.CreatedAt == nil || time.Since(*task.CreatedAt) > time.Minute {
		t.Fatalf("createdAt %v", task.CreatedAt)
	}

	list, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{ContainerInstance: aws.String(inst)})
	if err != nil {
		t.Fatalf("ListTasks: %v", err)
	}
	if len(list.TaskArns) != 1 || list.TaskArns[0] != taskARN {
		t.Fatalf("ListTasks = %v, want [%s]", list.TaskArns, taskARN)
	}

	d, err := c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Tasks: list.TaskArns})
	if err != nil {
		t.Fatalf("DescribeTasks: %v", err)
	}
	got := d.Tasks[0]
	if len(got.Containers) != 2 || aws.ToString(got.Containers[0].Name) != "app" {
		t.Fatalf("containers %+v", got.Containers)
	}
	ov := got.Overrides.ContainerOverrides[0]
	if aws.ToString(ov.Name) != "app" || len(ov.Command) != 2 || aws.ToString(ov.Environment[0].Value) != "test" {
		t.Fatalf("overrides did not round-trip: %+v", ov)
	}

	// The agent reports: pulled and running with a host port, then an exit.
	pullStart := time.Now().Add(-2 * time.Second).Truncate(time.Millisecond)
	if _, err := c.SubmitTaskStateChange(ctx(t), &ecs.SubmitTaskStateChangeInput{
		Task: aws.String(taskARN), Status: aws.String("RUNNING"),
		PullStartedAt: aws.Time(pullStart), PullStoppedAt: aws.Time(pullStart.Add(time.Second)),
		Containers: []types.ContainerStateChange{{
			ContainerName: aws.String("app"), Status: aws.String("RUNNING"), RuntimeId: aws.String("abc123"),
			NetworkBindings: []types.NetworkBinding{{BindIP: aws.String("0.0.0.0"), ContainerPort: aws.Int32(80), HostPort: aws.Int32(32768), Protocol: types.TransportProtocolTcp}},
		}},
	}); err != nil {
		t.Fatalf("SubmitTaskStateChange: %v", err)
	}
	ack, err := c.SubmitContainerStateChange(ctx(t), &ecs.SubmitContainerStateChangeInput{
		Task: aws.String(taskARN), ContainerName: aws.String("sidecar"), Status: aws.String("STOPPED"),
		ExitCode: aws.Int32(3), Reason: aws.String("exited"),
	})
	if err != nil {
		t.Fatalf("SubmitContainerStateChange: %v", err)
	}
	if aws.ToString(ack.Acknowledgment) != "ACK" {
		t.Fatalf("acknowledgment %q", aws.ToString(ack.Acknowledgment))
	}

	d, err = c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Tasks: []string{taskARN}})
	if err != nil {
		t.Fatalf("DescribeTasks: %v", err)
	}
	got = d.Tasks[0]
	if aws.ToString(got.LastStatus) != "RUNNING" || got.StartedAt == nil || !got.PullStartedAt.Equal(pullStart) {
		t.Fatalf("after RUNNING report: last %s startedAt %v pullStartedAt %v (want %v)", aws.ToString(got.LastStatus), got.StartedAt, got.PullStartedAt, pullStart)
	}
	app, side := got.Containers[0], got.Containers[1]
	if aws.ToString(app.LastStatus) != "RUNNING" || aws.ToInt32(app.NetworkBindings[0].HostPort) != 32768 || aws.ToString(app.RuntimeId) != "abc123" {
		t.Fatalf("app container %+v", app)
	}
	if aws.ToString(side.LastStatus) != "STOPPED" || aws.ToInt32(side.ExitCode) != 3 {
		t.Fatalf("sidecar container: last %s exit %v", aws.ToString(side.LastStatus), side.ExitCode)
	}

	reps := srv.ReportsFor(taskARN)
	if len(reps) != 2 || reps[0].Action != fakeecs.ActionSubmitTaskStateChange || reps[0].Status != "RUNNING" ||
		reps[0].Containers[0].NetworkBindings[0].HostPort == nil || reps[1].ContainerName != "sidecar" || *reps[1].ExitCode != 3 {
		t.Fatalf("reports %+v", reps)
	}
	if reps[0].Seq != 1 || reps[1].Seq != 2 {
		t.Fatalf("report order: seq %d, %d", reps[0].Seq, reps[1].Seq)
	}

	// StopTask: desired STOPPED with the reason; the task leaves the RUNNING list.
	if _, err := c.StopTask(ctx(t), &ecs.StopTaskInput{Task: aws.String(taskARN), Reason: aws.String("scale in")}); err != nil {
		t.Fatalf("StopTask: %v", err)
	}
	assertList(t, c, types.DesiredStatusRunning, nil)
	assertList(t, c, types.DesiredStatusStopped, []string{taskARN})
	d, _ = c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Tasks: []string{taskARN}})
	if got := d.Tasks[0]; aws.ToString(got.DesiredStatus) != "STOPPED" || aws.ToString(got.StoppedReason) != "scale in" || got.StopCode != types.TaskStopCodeUserInitiated {
		t.Fatalf("stopped task: desired %s reason %q code %s", aws.ToString(got.DesiredStatus), aws.ToString(got.StoppedReason), got.StopCode)
	}
	if _, err := c.SubmitTaskStateChange(ctx(t), &ecs.SubmitTaskStateChangeInput{
		Task: aws.String(taskARN), Status: aws.String("STOPPED"), ExecutionStoppedAt: aws.Time(time.Now()),
	}); err != nil {
		t.Fatalf("SubmitTaskStateChange STOPPED: %v", err)
	}
	if tk, _ := srv.Task(taskARN); aws.ToString(tk.LastStatus) != "STOPPED" || tk.StoppedAt == nil {
		t.Fatalf("task after STOPPED report: %s", aws.ToString(tk.LastStatus))
	}
	if n := srv.CallCount("ListTasks"); n != 3 {
		t.Fatalf("ListTasks call count %d, want 3", n)
	}
}

func assertList(t *testing.T, c *ecs.Client, status types.DesiredStatus, want []string) {
	t.Helper()
	out, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{DesiredStatus: status})
	if err != nil {
		t.Fatalf("ListTasks %s: %v", status, err)
	}
	if len(out.TaskArns) != len(want) {
		t.Fatalf("ListTasks %s = %v, want %v", status, out.TaskArns, want)
	}
	for i := range want {
		if out.TaskArns[i] != want[i] {
			t.Fatalf("ListTasks %s = %v, want %v", status, out.TaskArns, want)
		}
	}
}
