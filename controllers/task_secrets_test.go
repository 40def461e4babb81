package controllers

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/secrets"
)

// fakeSecrets has the value of each valueFrom it knows; others are
// missing, as ParameterNotFound.
type fakeSecrets map[string]string

func (f fakeSecrets) Env(_ context.Context, role string, ss []apiv1.Secret) ([]string, error) {
	var env []string
	for _, s := range ss {
		v, ok := f[s.ValueFrom]
		if !ok {
			return nil, &secrets.Error{Secret: s.Name + " (" + s.ValueFrom + ")", Permanent: true, Err: os.ErrNotExist}
		}
		env = append(env, s.Name+"="+v)
	}
	return env, nil
}

func (f *fixture) secretTask(name string, secret apiv1.Secret) {
	f.t.Helper()
	app := ctr("app")
	app.Secrets = []apiv1.Secret{secret}
	f.addTask(name, app)
	task := f.task(name)
	task.Spec.ExecutionRoleArn = "arn:aws:iam::123456789012:role/exec"
	if err := f.store.Update(f.ctx, task); err != nil {
		f.t.Fatal(err)
	}
}

func TestSecretsReachTheEnvironmentAndNothingElse(t *testing.T) {
	f := newFixture(t)
	_, creds, _ := f.withCredentials()
	f.r.Secrets = fakeSecrets{"/db/password": "pa55-word-value"}
	f.secretTask("t1", apiv1.Secret{Name: "DB_PASSWORD", ValueFrom: "/db/password"})
	if _, err := creds.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "t1"}}); err != nil {
		t.Fatal(err)
	}
	if task := f.settle("t1"); task.Status.KnownStatus != apiv1.StatusRunning {
		t.Fatalf("task %s (%s)", task.Status.KnownStatus, task.Status.StoppedReason)
	}
	if got := f.env("t1", "app")["DB_PASSWORD"]; got != "pa55-word-value" {
		t.Fatalf("DB_PASSWORD=%q in the container", got)
	}
	f.store.Close()
	data, err := os.ReadFile(f.store.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("pa55-word-value")) {
		t.Fatal("the secret's value is in the store file")
	}
}

func TestAMissingSecretStopsTheTaskNamingIt(t *testing.T) {
	f := newFixture(t)
	_, creds, _ := f.withCredentials()
	f.r.Secrets = fakeSecrets{}
	f.secretTask("t1", apiv1.Secret{Name: "DB_PASSWORD", ValueFrom: "/db/missing"})
	if _, err := creds.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "t1"}}); err != nil {
		t.Fatal(err)
	}
	task := f.settle("t1")
	r := task.Status.StoppedReason
	if task.Status.KnownStatus != apiv1.StatusStopped || !strings.HasPrefix(r, "ResourceInitializationError: unable to pull secrets") || !strings.Contains(r, "DB_PASSWORD (/db/missing)") {
		t.Fatalf("task %s, reason %q; want STOPPED with a ResourceInitializationError naming the secret", task.Status.KnownStatus, r)
	}
}

func TestAwslogsGetsTheExecutionRolesCredentials(t *testing.T) {
	f := newFixture(t)
	_, creds, _ := f.withCredentials()
	app := ctr("app")
	app.LogConfiguration = &apiv1.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "g"}}
	f.addTask("t1", app)
	task := f.task("t1")
	task.Spec.ExecutionRoleArn = "arn:aws:iam::123456789012:role/exec"
	if err := f.store.Update(f.ctx, task); err != nil {
		t.Fatal(err)
	}
	if _, err := creds.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "t1"}}); err != nil {
		t.Fatal(err)
	}
	task = f.settle("t1")
	var exec apiv1.Credentials
	if err := f.store.Get(f.ctx, apiv1.CredentialsName("t1", apiv1.RoleTypeExecution), &exec); err != nil {
		t.Fatal(err)
	}
	lc := f.docker.CreateConfig(task.Status.ContainerStatusFor("app").DockerID).LogConfig
	if lc == nil || lc.Options["awslogs-credentials-endpoint"] != "/v2/credentials/"+exec.Spec.ID || lc.Options["awslogs-group"] != "g" {
		t.Fatalf("log config %+v; want the execution role's credentials path beside the definition's options", lc)
	}
	if _, set := task.Spec.ContainerSpecFor("app").LogConfiguration.Options["awslogs-credentials-endpoint"]; set {
		t.Fatal("the option leaked into the task's spec")
	}
}
