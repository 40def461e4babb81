package controllers

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// fakeSTS hands out credentials that live an hour from the test's clock.
type fakeSTS struct {
	now   func() time.Time
	calls int
	fail  error
}

func (s *fakeSTS) AssumeRole(_ context.Context, roleArn, session string) (credentials.Credentials, error) {
	if s.fail != nil {
		return credentials.Credentials{}, s.fail
	}
	s.calls++
	return credentials.Credentials{
		RoleArn: roleArn, AccessKeyID: fmt.Sprintf("ASIA%d", s.calls), SecretAccessKey: "secret", SessionToken: "token",
		Expiration: s.now().Add(time.Hour),
	}, nil
}

type credsFixture struct {
	t      *testing.T
	ctx    context.Context
	store  *store.Bolt
	holder *credentials.Holder
	sts    *fakeSTS
	now    time.Time
	r      *CredentialsReconciler
}

func newCredsFixture(t *testing.T) *credsFixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "agent.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &credsFixture{t: t, ctx: context.Background(), store: st, now: time.Unix(1_800_000_000, 0)}
	f.sts = &fakeSTS{now: func() time.Time { return f.now }}
	f.restart()
	return f
}

// restart is a new agent process on the same store: an empty holder.
func (f *credsFixture) restart() {
	f.holder = credentials.NewHolder()
	f.r = &CredentialsReconciler{Store: f.store, Holder: f.holder, STS: f.sts, Now: func() time.Time { return f.now }}
}

func (f *credsFixture) addTask(name string, source apiv1.TaskSource) *apiv1.Task {
	f.t.Helper()
	task := &apiv1.Task{Spec: apiv1.TaskSpec{
		Arn: "arn:aws:ecs:us-west-2:123456789012:task/c/" + name, Family: "fam", Revision: 1,
		DesiredStatus: apiv1.StatusRunning, Containers: []apiv1.ContainerSpec{ctr("app")}, Source: source,
		TaskRoleArn: "arn:aws:iam::123456789012:role/app", ExecutionRoleArn: "arn:aws:iam::123456789012:role/exec",
	}}
	task.Name = name
	if err := f.store.Create(f.ctx, task); err != nil {
		f.t.Fatal(err)
	}
	return task
}

func (f *credsFixture) reconcile(name string) (reconcile.Result, error) {
	return f.r.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
}

func (f *credsFixture) object(task string, role apiv1.RoleType) *apiv1.Credentials {
	f.t.Helper()
	var c apiv1.Credentials
	if err := f.store.Get(f.ctx, apiv1.CredentialsName(task, role), &c); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		f.t.Fatal(err)
	}
	return &c
}

func (f *credsFixture) served(id string) (string, error) {
	c, _, err := f.holder.Lookup(id)
	return c.AccessKeyID, err
}

func TestStaticTaskRolesAreAssumedAndRenewedBeforeExpiry(t *testing.T) {
	f := newCredsFixture(t)
	f.addTask("t1", apiv1.SourceStatic)
	res, err := f.reconcile("t1")
	if err != nil {
		t.Fatal(err)
	}
	task, exec := f.object("t1", apiv1.RoleTypeTask), f.object("t1", apiv1.RoleTypeExecution)
	if task == nil || exec == nil || task.Spec.ID == exec.Spec.ID {
		t.Fatalf("objects %+v, %+v; want one per role with its own id", task, exec)
	}
	if key, err := f.served(task.Spec.ID); err != nil || key != "ASIA1" {
		t.Fatalf("task role id serves %q, %v", key, err)
	}
	if task.Status.Source != apiv1.CredentialsFromSTS || task.Status.Expiration == nil || !task.Status.Expiration.Time.Equal(f.now.Add(time.Hour)) {
		t.Fatalf("status = %+v", task.Status)
	}
	// Renewed 15 minutes before the hour is up, not earlier.
	if want := 45 * time.Minute; res.RequeueAfter != want {
		t.Fatalf("requeue after %s; want %s", res.RequeueAfter, want)
	}
	f.now = f.now.Add(44 * time.Minute)
	if _, err := f.reconcile("t1"); err != nil || f.sts.calls != 2 {
		t.Fatalf("at 44m: %d AssumeRole calls, err %v; want none beyond the first two", f.sts.calls, err)
	}
	f.now = f.now.Add(2 * time.Minute)
	if _, err := f.reconcile("t1"); err != nil {
		t.Fatal(err)
	}
	if f.sts.calls != 4 {
		t.Fatalf("at 46m: %d AssumeRole calls; want both roles renewed", f.sts.calls)
	}
	renewed := f.object("t1", apiv1.RoleTypeTask)
	if renewed.Spec.ID != task.Spec.ID {
		t.Fatalf("renewal changed the id from %s to %s: running containers would lose their credentials", task.Spec.ID, renewed.Spec.ID)
	}
	if key, _ := f.served(task.Spec.ID); key == "ASIA1" {
		t.Fatal("the id still serves the first credentials after the renewal")
	}
}

func TestAfterARestartAKnownIDWaitsForItsCredentialsAndAnUnknownOneIsRefused(t *testing.T) {
	f := newCredsFixture(t)
	f.addTask("t1", apiv1.SourceStatic)
	if _, err := f.reconcile("t1"); err != nil {
		t.Fatal(err)
	}
	id := f.object("t1", apiv1.RoleTypeTask).Spec.ID

	f.restart()
	f.sts.fail = errors.New("connection refused")
	if _, err := f.reconcile("t1"); err == nil {
		t.Fatal("a failed AssumeRole returned no error to retry with")
	}
	if _, err := f.served(id); !errors.Is(err, credentials.ErrNotYetAvailable) {
		t.Fatalf("known id while STS fails: %v; want ErrNotYetAvailable (503)", err)
	}
	if _, err := f.served(credentials.NewID()); !errors.Is(err, credentials.ErrUnknownID) {
		t.Fatalf("unknown id: %v; want ErrUnknownID (400)", err)
	}
	if st := f.object("t1", apiv1.RoleTypeTask).Status; !strings.Contains(st.Error, "connection refused") || st.Failed {
		t.Fatalf("status = %+v; want the error, retryable", st)
	}
	f.sts.fail = nil
	if _, err := f.reconcile("t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.served(id); err != nil {
		t.Fatalf("known id after STS healed: %v", err)
	}
	if st := f.object("t1", apiv1.RoleTypeTask).Status; st.Error != "" {
		t.Fatalf("error kept after success: %+v", st)
	}
}

func TestECSTaskCredentialsComeFromACSNotSTS(t *testing.T) {
	f := newCredsFixture(t)
	task := f.addTask("t1", apiv1.SourceECS)
	if _, err := f.reconcile("t1"); err != nil {
		t.Fatal(err)
	}
	id := f.object("t1", apiv1.RoleTypeTask).Spec.ID
	if _, err := f.served(id); !errors.Is(err, credentials.ErrNotYetAvailable) || f.sts.calls != 0 {
		t.Fatalf("before ACS: %v, %d AssumeRole calls; want 503 and none", err, f.sts.calls)
	}
	exp := f.now.Add(6 * time.Hour)
	f.holder.Put(task.Spec.Arn, apiv1.RoleTypeTask, credentials.Credentials{RoleArn: task.Spec.TaskRoleArn, AccessKeyID: "ASIAACS", Expiration: exp}, apiv1.CredentialsFromACS)
	if _, err := f.reconcile("t1"); err != nil {
		t.Fatal(err)
	}
	if key, err := f.served(id); err != nil || key != "ASIAACS" {
		t.Fatalf("after ACS: %q, %v", key, err)
	}
	st := f.object("t1", apiv1.RoleTypeTask).Status
	if st.Source != apiv1.CredentialsFromACS || !st.Expiration.Time.Equal(exp) {
		t.Fatalf("status = %+v; want source acs and ACS's expiry", st)
	}
	// ACS renews on its own clock: the renewal is served under the same id.
	f.now = f.now.Add(5 * time.Hour)
	renewed := f.now.Add(6 * time.Hour)
	f.holder.Put(task.Spec.Arn, apiv1.RoleTypeTask, credentials.Credentials{RoleArn: task.Spec.TaskRoleArn, AccessKeyID: "ASIARENEWED", Expiration: renewed}, apiv1.CredentialsFromACS)
	if _, err := f.reconcile("t1"); err != nil {
		t.Fatal(err)
	}
	if key, err := f.served(id); err != nil || key != "ASIARENEWED" || !f.object("t1", apiv1.RoleTypeTask).Status.Expiration.Time.Equal(renewed) || f.sts.calls != 0 {
		t.Fatalf("after ACS's renewal: %q, %v, %d AssumeRole calls; want the renewal under the same id, no STS", key, err, f.sts.calls)
	}
}

func TestTaskRoleGoesAtStopAndExecutionRoleAtCleanup(t *testing.T) {
	f := newCredsFixture(t)
	task := f.addTask("t1", apiv1.SourceStatic)
	if _, err := f.reconcile("t1"); err != nil {
		t.Fatal(err)
	}
	taskID, execID := f.object("t1", apiv1.RoleTypeTask).Spec.ID, f.object("t1", apiv1.RoleTypeExecution).Spec.ID
	task.Status.KnownStatus = apiv1.StatusStopped
	if err := f.store.UpdateStatus(f.ctx, task); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reconcile("t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.served(taskID); !errors.Is(err, credentials.ErrUnknownID) || f.object("t1", apiv1.RoleTypeTask) != nil {
		t.Fatalf("task role after stop: %v; want it gone", err)
	}
	if _, err := f.served(execID); err != nil {
		t.Fatalf("execution role after stop: %v; want it kept until cleanup", err)
	}
	if err := f.store.Delete(f.ctx, task); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reconcile("t1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.served(execID); !errors.Is(err, credentials.ErrUnknownID) || f.object("t1", apiv1.RoleTypeExecution) != nil {
		t.Fatalf("execution role after cleanup: %v; want it gone", err)
	}
}

func TestARoleThatMayNotBeAssumedFailsForGood(t *testing.T) {
	f := newCredsFixture(t)
	f.addTask("t1", apiv1.SourceStatic)
	f.sts.fail = &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform: sts:AssumeRole"}
	if _, err := f.reconcile("t1"); err != nil {
		t.Fatalf("a permanent failure was returned for retry: %v", err)
	}
	st := f.object("t1", apiv1.RoleTypeTask).Status
	if !st.Failed || !strings.Contains(st.Error, "AccessDenied") {
		t.Fatalf("status = %+v; want failed with the STS error", st)
	}
}
