package controllers

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate/dockerfake"
)

// roleTask adds a task with a task role in the network mode.
func (f *fixture) roleTask(name, mode string) {
	f.t.Helper()
	f.addTask(name, ctr("app"))
	task := f.task(name)
	task.Spec.TaskRoleArn = "arn:aws:iam::123456789012:role/app"
	task.Spec.NetworkMode = mode
	if err := f.store.Update(f.ctx, task); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) withCredentials() (*credentials.Holder, *CredentialsReconciler, *fakeSTS) {
	holder := credentials.NewHolder()
	sts := &fakeSTS{now: func() time.Time { return f.now }}
	f.r.Credentials = holder
	f.r.Opts.TaskIAMRole, f.r.Opts.TaskIAMRoleNetworkHost = true, true
	return holder, &CredentialsReconciler{Store: f.store, Holder: holder, STS: sts, Now: f.r.Now}, sts
}

func TestTaskWithARoleStartsOnlyOnceItsCredentialsAreHeld(t *testing.T) {
	f := newFixture(t)
	_, creds, _ := f.withCredentials()
	f.roleTask("t1", apiv1.NetworkModeBridge)
	if task := f.settle("t1"); task.Status.KnownStatus != apiv1.StatusNone || f.docker.Calls(dockerfake.CreateContainer) != 0 {
		t.Fatalf("task is %s with %d containers created before its credentials; want it waiting", task.Status.KnownStatus, f.docker.Calls(dockerfake.CreateContainer))
	}
	if _, err := creds.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "t1"}}); err != nil {
		t.Fatal(err)
	}
	if task := f.settle("t1"); task.Status.KnownStatus != apiv1.StatusRunning {
		t.Fatalf("task is %s once its credentials are held; want RUNNING", task.Status.KnownStatus)
	}
}

func TestTaskWhoseRoleCannotBeAssumedStopsNamingTheRole(t *testing.T) {
	f := newFixture(t)
	_, creds, sts := f.withCredentials()
	sts.fail = &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform: sts:AssumeRole"}
	f.roleTask("t1", apiv1.NetworkModeBridge)
	if _, err := creds.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "t1"}}); err != nil {
		t.Fatal(err)
	}
	task := f.settle("t1")
	if task.Status.KnownStatus != apiv1.StatusStopped || !strings.HasPrefix(task.Status.StoppedReason, apiv1.ResourceInitializationErrorName) ||
		!strings.Contains(task.Status.StoppedReason, "arn:aws:iam::123456789012:role/app") || !strings.Contains(task.Status.StoppedReason, "AccessDenied") {
		t.Fatalf("task %s: %q; want STOPPED with a ResourceInitializationError naming the role and the error", task.Status.KnownStatus, task.Status.StoppedReason)
	}
}

func TestTaskRolesNeedTheirSwitch(t *testing.T) {
	for _, c := range []struct {
		mode               string
		bridgeOn, hostOn   bool
		refused            bool
		reasonNamesSetting string
	}{
		{apiv1.NetworkModeBridge, false, true, true, "ECS_ENABLE_TASK_IAM_ROLE=true"},
		{apiv1.NetworkModeBridge, true, false, false, ""},
		{apiv1.NetworkModeHost, true, false, true, "ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true"},
		{apiv1.NetworkModeHost, false, true, false, ""},
	} {
		f := newFixture(t)
		f.withCredentials()
		f.r.Opts.TaskIAMRole, f.r.Opts.TaskIAMRoleNetworkHost = c.bridgeOn, c.hostOn
		f.roleTask("t1", c.mode)
		task := f.settle("t1")
		refused := task.Status.KnownStatus == apiv1.StatusStopped
		if refused != c.refused || !strings.Contains(task.Status.StoppedReason, c.reasonNamesSetting) {
			t.Errorf("%s, ECS_ENABLE_TASK_IAM_ROLE=%v, …_NETWORK_HOST=%v: task %s (%q); refused want %v, naming %s",
				c.mode, c.bridgeOn, c.hostOn, task.Status.KnownStatus, task.Status.StoppedReason, c.refused, c.reasonNamesSetting)
		}
	}
}
