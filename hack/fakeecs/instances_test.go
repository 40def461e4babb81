package fakeecs_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
)

func TestReRegistrationKeepsARNAndUpdatesResources(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)
	inst, _ := setup(t, c)
	out, err := c.RegisterContainerInstance(ctx(t), &ecs.RegisterContainerInstanceInput{
		ContainerInstanceArn: aws.String(inst),
		TotalResources:       []types.Resource{{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 4096}},
		VersionInfo:          &types.VersionInfo{AgentVersion: aws.String("1.0.1")},
	})
	if err != nil {
		t.Fatalf("re-register: %v", err)
	}
	ci := out.ContainerInstance
	if aws.ToString(ci.ContainerInstanceArn) != inst || ci.RegisteredResources[0].IntegerValue != 4096 ||
		aws.ToString(ci.VersionInfo.AgentVersion) != "1.0.1" || aws.ToString(ci.Ec2InstanceId) != "i-0123456789abcdef0" {
		t.Fatalf("re-registered instance %+v", ci)
	}
	if n := len(srv.ContainerInstances()); n != 1 {
		t.Fatalf("%d instances after re-registration, want 1", n)
	}
	if _, err := c.RegisterContainerInstance(ctx(t), &ecs.RegisterContainerInstanceInput{
		ContainerInstanceArn: aws.String("arn:aws:ecs:us-west-2:123456789012:container-instance/default/" + strings.Repeat("0", 32)),
	}); !errors.As(err, new(*types.InvalidParameterException)) {
		t.Fatalf("re-register an unknown ARN: %v, want InvalidParameterException", err)
	}
}

func TestDrainingInstanceGetsNoNewTasks(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)
	first, _ := setup(t, c)
	reg, err := c.RegisterContainerInstance(ctx(t), &ecs.RegisterContainerInstanceInput{})
	if err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(reg.ContainerInstance.ContainerInstanceArn)

	// Round-robin over both ACTIVE instances.
	run, err := c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: aws.String("web"), Count: aws.Int32(4)})
	if err != nil {
		t.Fatal(err)
	}
	placed := map[string]int{}
	for _, tk := range run.Tasks {
		placed[aws.ToString(tk.ContainerInstanceArn)]++
	}
	if placed[first] != 2 || placed[second] != 2 {
		t.Fatalf("placement %v, want 2 on each", placed)
	}
	if _, err := c.SubmitTaskStateChange(ctx(t), &ecs.SubmitTaskStateChangeInput{Task: run.Tasks[0].TaskArn, Status: aws.String("RUNNING")}); err != nil {
		t.Fatal(err)
	}
	cl, err := c.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{})
	if err != nil || cl.Clusters[0].RegisteredContainerInstancesCount != 2 || cl.Clusters[0].RunningTasksCount != 1 || cl.Clusters[0].PendingTasksCount != 3 {
		t.Fatalf("describe cluster: %v %+v; want 2 instances, 1 running and 3 pending tasks", err, cl.Clusters)
	}

	upd, err := c.UpdateContainerInstancesState(ctx(t), &ecs.UpdateContainerInstancesStateInput{
		ContainerInstances: []string{first}, Status: types.ContainerInstanceStatusDraining})
	if err != nil || aws.ToString(upd.ContainerInstances[0].Status) != "DRAINING" {
		t.Fatalf("drain: %v %+v", err, upd)
	}
	desc, err := c.DescribeContainerInstances(ctx(t), &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{first}})
	if err != nil || aws.ToString(desc.ContainerInstances[0].Status) != "DRAINING" || desc.ContainerInstances[0].RunningTasksCount != 1 || desc.ContainerInstances[0].PendingTasksCount != 1 {
		t.Fatalf("describe drained: %v %+v", err, desc.ContainerInstances)
	}
	run, err = c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: aws.String("web"), Count: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range run.Tasks {
		if aws.ToString(tk.ContainerInstanceArn) != second {
			t.Fatalf("task placed on the DRAINING instance")
		}
	}
	st, err := c.StartTask(ctx(t), &ecs.StartTaskInput{TaskDefinition: aws.String("web"), ContainerInstances: []string{first, second}})
	if err != nil || len(st.Tasks) != 1 || len(st.Failures) != 1 || aws.ToString(st.Failures[0].Reason) != "DRAINING" {
		t.Fatalf("StartTask onto a draining and an active instance: %v %+v", err, st)
	}

	if _, err := c.UpdateContainerInstancesState(ctx(t), &ecs.UpdateContainerInstancesStateInput{
		ContainerInstances: []string{second}, Status: types.ContainerInstanceStatusDraining}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: aws.String("web")}); !errors.As(err, new(*types.InvalidParameterException)) {
		t.Fatalf("RunTask with every instance draining: %v, want InvalidParameterException", err)
	}
	lst, err := c.ListContainerInstances(ctx(t), &ecs.ListContainerInstancesInput{Status: types.ContainerInstanceStatusDraining})
	if err != nil || len(lst.ContainerInstanceArns) != 2 {
		t.Fatalf("list DRAINING: %v %v", err, lst)
	}
	if _, err := c.DeregisterContainerInstance(ctx(t), &ecs.DeregisterContainerInstanceInput{ContainerInstance: aws.String(second)}); err == nil {
		t.Fatal("deregistered an instance with tasks without force")
	}
	if _, err := c.DeregisterContainerInstance(ctx(t), &ecs.DeregisterContainerInstanceInput{ContainerInstance: aws.String(second), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterContainerInstance(ctx(t), &ecs.RegisterContainerInstanceInput{ContainerInstanceArn: aws.String(second)}); !errors.As(err, new(*types.ClientException)) {
		t.Fatalf("re-register a deregistered instance: %v, want ClientException", err)
	}
}

func TestListTasksPaginatesAndFilters(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)
	inst, _ := setup(t, c)
	if _, err := c.RegisterTaskDefinition(ctx(t), &ecs.RegisterTaskDefinitionInput{Family: aws.String("batch"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("job"), Image: aws.String("busybox")}}}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 0; i < 25; i++ {
		family := "web"
		if i%5 == 0 {
			family = "batch"
		}
		out, err := c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: aws.String(family)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, aws.ToString(out.Tasks[0].TaskArn))
	}
	id := want[3][strings.LastIndex(want[3], "/")+1:]
	if _, err := c.StopTask(ctx(t), &ecs.StopTaskInput{Task: aws.String(id)}); err != nil {
		t.Fatalf("StopTask by id: %v", err)
	}

	var got []string
	pages := 0
	p := ecs.NewListTasksPaginator(c, &ecs.ListTasksInput{ContainerInstance: aws.String(inst), MaxResults: aws.Int32(10)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, out.TaskArns...)
	}
	if pages != 3 || len(got) != 24 {
		t.Fatalf("%d pages, %d tasks; want 3 pages of 24 RUNNING tasks", pages, len(got))
	}
	for i, arn := range append(want[:3:3], want[4:]...) {
		if got[i] != arn {
			t.Fatalf("page order: got[%d] = %s, want %s", i, got[i], arn)
		}
	}
	batch, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{Family: aws.String("batch")})
	if err != nil || len(batch.TaskArns) != 5 {
		t.Fatalf("family filter: %v, %d tasks, want 5", err, len(batch.TaskArns))
	}
	stopped, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{DesiredStatus: types.DesiredStatusStopped, ContainerInstance: aws.String(inst[strings.LastIndex(inst, "/")+1:])})
	if err != nil || len(stopped.TaskArns) != 1 || stopped.TaskArns[0] != want[3] {
		t.Fatalf("STOPPED by instance id: %v %v", err, stopped)
	}
	desc, err := c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Tasks: []string{want[0], "0123456789abcdef0123456789abcdef"}})
	if err != nil || len(desc.Tasks) != 1 || len(desc.Failures) != 1 || aws.ToString(desc.Failures[0].Reason) != "MISSING" {
		t.Fatalf("describe with a missing task: %v %+v", err, desc)
	}
}

func TestAdminAPIShowsReportsCallsAndFaults(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)
	setup(t, c)
	run, err := c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(run.Tasks[0].TaskArn)
	if _, err := c.SubmitContainerStateChange(ctx(t), &ecs.SubmitContainerStateChangeInput{Task: aws.String(arn),
		ContainerName: aws.String("app"), Status: aws.String("RUNNING")}); err != nil {
		t.Fatal(err)
	}

	var reps []fakeecs.Report
	getJSON(t, srv.URL()+"/_fake/reports?task="+arn, &reps)
	if len(reps) != 1 || reps[0].ContainerName != "app" || reps[0].Status != "RUNNING" {
		t.Fatalf("reports %+v", reps)
	}
	var state map[string][]map[string]any
	getJSON(t, srv.URL()+"/_fake/state", &state)
	if len(state["tasks"]) != 1 || state["tasks"][0]["taskArn"] != arn || len(state["containerInstances"]) != 1 {
		t.Fatalf("state %v", state)
	}
	var calls struct {
		Calls map[string]int `json:"calls"`
		Total int            `json:"total"`
	}
	getJSON(t, srv.URL()+"/_fake/calls", &calls)
	if calls.Calls["RunTask"] != 1 || calls.Total != 5 {
		t.Fatalf("calls %+v", calls)
	}

	resp, err := http.Post(srv.URL()+"/_fake/faults", "application/json", strings.NewReader(`{"kind":"throttle","action":"DescribeTasks","count":1}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST fault: %v %v", err, resp)
	}
	resp.Body.Close()
	if _, err := c.DescribeTasks(ctx(t), &ecs.DescribeTasksInput{Tasks: []string{arn}}); err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Fatalf("DescribeTasks after an admin throttle fault: %v", err)
	}
	resp, err = http.Post(srv.URL()+"/_fake/faults", "application/json", strings.NewReader(`{"kind":"bogus"}`))
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("POST bogus fault: %v %v", err, resp)
	}
	resp.Body.Close()
}

func TestConcurrentCallsAreSafe(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)
	setup(t, c)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 20; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			out, err := c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: aws.String("web")})
			if err == nil {
				_, err = c.SubmitTaskStateChange(ctx(t), &ecs.SubmitTaskStateChangeInput{Task: out.Tasks[0].TaskArn, Status: aws.String("RUNNING")})
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.Reports()); n != 20 {
		t.Fatalf("%d reports, want 20", n)
	}
	for i, r := range srv.Reports() {
		if r.Seq != i+1 {
			t.Fatalf("report %d has seq %d", i, r.Seq)
		}
	}
}

func getJSON(t *testing.T, url string, into any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
