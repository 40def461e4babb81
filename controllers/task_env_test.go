package controllers

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// env returns a container's environment as created, as a map; a name set
// twice keeps the later value, as Docker does.
func (f *fixture) env(task, container string) map[string]string {
	f.t.Helper()
	cs := f.task(task).Status.ContainerStatusFor(container)
	out := map[string]string{}
	for _, kv := range f.docker.CreateConfig(cs.DockerID).Env {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

func TestContainersGetTheAgentsEnvironment(t *testing.T) {
	f := newFixture(t)
	_, creds, _ := f.withCredentials()
	f.r.Opts.Region = "eu-west-1"
	f.roleTask("t1", apiv1.NetworkModeBridge)
	if _, err := creds.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "t1"}}); err != nil {
		t.Fatal(err)
	}
	task := f.settle("t1")
	cs := task.Status.ContainerStatusFor("app")
	if cs.MetadataID == "" || cs.MetadataID == cs.DockerID {
		t.Fatalf("metadata id %q; want a UUID of its own", cs.MetadataID)
	}
	var credsObj apiv1.Credentials
	if err := f.store.Get(f.ctx, apiv1.CredentialsName("t1", apiv1.RoleTypeTask), &credsObj); err != nil {
		t.Fatal(err)
	}
	env := f.env("t1", "app")
	for name, want := range map[string]string{
		"ECS_CONTAINER_METADATA_URI":             "http://169.254.170.2/v3/" + cs.MetadataID,
		"ECS_CONTAINER_METADATA_URI_V4":          "http://169.254.170.2/v4/" + cs.MetadataID,
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/" + credsObj.Spec.ID,
		"AWS_EXECUTION_ENV":                      "AWS_ECS_EC2",
		"AWS_REGION":                             "eu-west-1",
		"AWS_DEFAULT_REGION":                     "eu-west-1",
	} {
		if env[name] != want {
			t.Errorf("%s=%q; want %q", name, env[name], want)
		}
	}
}

// The region is the definition's or the image's when they set it; the
// metadata endpoints are the agent's whatever the definition says; the
// credentials path is set only for a task role.
func TestTheDefinitionAndTheImageKeepTheirRegion(t *testing.T) {
	f := newFixture(t)
	f.r.Opts.Region = "eu-west-1"
	f.docker.SetImageEnv(testImage, "AWS_DEFAULT_REGION=ap-south-1", "PATH=/bin")
	app := ctr("app")
	app.Environment = []apiv1.KeyValue{{Name: "AWS_REGION", Value: "us-east-2"}, {Name: "ECS_CONTAINER_METADATA_URI_V4", Value: "http://forged"}, {Name: "AWS_EXECUTION_ENV", Value: "mine"}}
	f.addTask("t1", app)
	f.settle("t1")
	env := f.env("t1", "app")
	if env["AWS_REGION"] != "us-east-2" || env["AWS_EXECUTION_ENV"] != "mine" {
		t.Errorf("definition's values replaced: %v", env)
	}
	if _, set := env["AWS_DEFAULT_REGION"]; set {
		t.Errorf("AWS_DEFAULT_REGION=%q set over the image's", env["AWS_DEFAULT_REGION"])
	}
	if !strings.HasPrefix(env["ECS_CONTAINER_METADATA_URI_V4"], "http://169.254.170.2/v4/") {
		t.Errorf("ECS_CONTAINER_METADATA_URI_V4=%q; want the agent's", env["ECS_CONTAINER_METADATA_URI_V4"])
	}
	if _, set := env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]; set {
		t.Error("credentials path set for a task without a task role")
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	if slices.Contains(keys, "ECS_AGENT_URI") {
		t.Error("ECS_AGENT_URI set, but this agent serves no /api paths")
	}
}
