package fakeecs_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

func TestErrorsDecodeAsTypedSDKErrors(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)

	_, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{Cluster: aws.String("nope")})
	var notFound *types.ClusterNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("ListTasks on a missing cluster: %v, want ClusterNotFoundException", err)
	}
	_, err = c.RegisterContainerInstance(ctx(t), &ecs.RegisterContainerInstanceInput{})
	if !errors.As(err, &notFound) {
		t.Fatalf("register before the default cluster exists: %v, want ClusterNotFoundException", err)
	}

	srv.CreateCluster("default")
	_, err = c.RunTask(ctx(t), &ecs.RunTaskInput{TaskDefinition: aws.String("missing")})
	var clientErr *types.ClientException
	if !errors.As(err, &clientErr) {
		t.Fatalf("RunTask of a missing task definition: %v, want ClientException", err)
	}
	_, err = c.ListTasks(ctx(t), &ecs.ListTasksInput{NextToken: aws.String("!!not-a-token")})
	var invalid *types.InvalidParameterException
	if !errors.As(err, &invalid) {
		t.Fatalf("ListTasks with a bad token: %v, want InvalidParameterException", err)
	}
}

func TestThrottlingIsTypedAndRetriedBySDK(t *testing.T) {
	srv := startFake(t)
	srv.CreateCluster("default")

	// Without retries the caller sees ThrottlingException, which the SDK classifies as throttling.
	srv.ThrottleN("ListTasks", 1)
	_, err := newClient(t, srv, 1).ListTasks(ctx(t), &ecs.ListTasksInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" {
		t.Fatalf("throttled ListTasks: %v, want ThrottlingException", err)
	}
	if !(retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}).IsErrorThrottle(err).Bool() {
		t.Fatalf("the SDK does not see %v as throttling", err)
	}

	// The standard retryer retries through two throttled calls; other actions are not throttled.
	srv.ResetCalls()
	srv.ThrottleN("ListTasks", 2)
	if _, err := newClient(t, srv, 3).DescribeClusters(ctx(t), &ecs.DescribeClustersInput{}); err != nil {
		t.Fatalf("DescribeClusters under a ListTasks-only fault: %v", err)
	}
	if _, err := newClient(t, srv, 3).ListTasks(ctx(t), &ecs.ListTasksInput{}); err != nil {
		t.Fatalf("ListTasks with retries: %v", err)
	}
	if n := srv.CallCount("ListTasks"); n != 3 {
		t.Fatalf("ListTasks reached the endpoint %d times, want 3 (2 throttled + 1)", n)
	}
	if len(srv.Faults()) != 0 {
		t.Fatalf("a spent fault is still listed: %+v", srv.Faults())
	}
}

func TestServerErrorsForADuration(t *testing.T) {
	srv := startFake(t)
	srv.CreateCluster("default")
	c := newClient(t, srv, 1)
	srv.FailFor("", 300*time.Millisecond)
	_, err := c.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{})
	var serverErr *types.ServerException
	if !errors.As(err, &serverErr) {
		t.Fatalf("DescribeClusters during a 5xx fault: %v, want ServerException", err)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusInternalServerError {
		t.Fatalf("status of %v, want 500", err)
	}
	testwait.For(t, "DescribeClusters to succeed after a 300 ms fault", 5*time.Second, 50*time.Millisecond, func() (bool, string) {
		_, err := c.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{})
		return err == nil, fmt.Sprint(err)
	})
}

func TestLatencyDelaysOnlyItsAction(t *testing.T) {
	srv := startFake(t)
	srv.CreateCluster("default")
	c := newClient(t, srv, 1)
	id := srv.AddLatency("ListTasks", 300*time.Millisecond)
	hits := func() int {
		for _, ft := range srv.Faults() {
			if ft.ID == id {
				return ft.Hits
			}
		}
		return -1 // cleared
	}
	start := time.Now()
	if _, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{}); err != nil {
		t.Fatal(err)
	}
	// A lower bound only: the call cannot have been answered before the injected delay.
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("ListTasks took %v under 300 ms latency", d)
	}
	if n := hits(); n != 1 {
		t.Fatalf("latency fault hit %d calls after one ListTasks, want 1", n)
	}
	if _, err := c.DescribeClusters(ctx(t), &ecs.DescribeClustersInput{}); err != nil {
		t.Fatal(err)
	}
	if n := hits(); n != 1 {
		t.Fatalf("latency fault hit %d calls after a DescribeClusters: it leaked to another action", n)
	}
	srv.ClearFault(id)
	if n := hits(); n != -1 {
		t.Fatalf("cleared fault still listed with %d hits", n)
	}
	if _, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{}); err != nil {
		t.Fatalf("ListTasks after clearing: %v", err)
	}
}

func TestStopAndRestartKeepState(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)
	inst, _ := setup(t, c)
	addr := srv.Addr()

	srv.Stop()
	// The first call may fail on a kept-alive connection the stop closed; the next finds no listener.
	if _, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{}); err == nil {
		t.Fatal("ListTasks on a stopped endpoint succeeded")
	}
	_, err := c.ListTasks(ctx(t), &ecs.ListTasksInput{})
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("ListTasks on a stopped endpoint: %v, want connection refused", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if srv.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", srv.Addr(), addr)
	}
	out, err := c.DescribeContainerInstances(ctx(t), &ecs.DescribeContainerInstancesInput{ContainerInstances: []string{inst}})
	if err != nil || len(out.ContainerInstances) != 1 {
		t.Fatalf("after restart: %v, %+v", err, out)
	}
}

func TestInjectFaultRejectsNonsense(t *testing.T) {
	f := fakeecs.New(fakeecs.Options{})
	for _, ft := range []fakeecs.Fault{{Kind: "explode"}, {Kind: fakeecs.FaultLatency}, {Kind: fakeecs.FaultThrottle, Count: -1}} {
		if _, err := f.InjectFault(ft); err == nil {
			t.Errorf("InjectFault(%+v) accepted", ft)
		}
	}
}
