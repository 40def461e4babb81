package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/hack/fakeaws"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// Secrets from SSM (String, SecureString) and Secrets Manager (whole, one
// JSON key) reach the container's environment, and none of their values
// is in the store file, the debug log, `get tasks -o yaml`, the agent API
// or `describe task`; a missing secret stops its task with a reason that
// names it.
func TestSecretsReachTheContainerAndNothingElse(t *testing.T) {
	aws := h.StartFakeAWS(t, fakeaws.Options{})
	exec := aws.AddRole("exec")
	values := map[string]string{
		"PLAIN":    "ssm-string-7f3a91",
		"SECURE":   "ssm-secure-c04e2d",
		"WHOLE":    `{"user":"admin","password":"asm-key-5b8e17"}`,
		"PASSWORD": "asm-key-5b8e17",
	}
	aws.PutParameter(fakeaws.Parameter{Name: "/e2e/plain", Value: values["PLAIN"]})
	secureARN := aws.PutParameter(fakeaws.Parameter{Name: "e2e-secure", Value: values["SECURE"], Type: fakeaws.ParameterSecureString, Readers: []string{exec}})
	smARN, _ := aws.PutSecret("e2e-db", values["WHOLE"], exec)
	a := h.Start(t, h.Options{Env: aws.AgentEnv()})

	td := h.Task("secrets", h.App("app", "env").
		Secret("PLAIN", "/e2e/plain").Secret("SECURE", secureARN).
		Secret("WHOLE", smARN).Secret("PASSWORD", smARN+":password::"))
	td.ExecutionRoleArn = exec
	a.WriteTask("secrets.json", td.JSON())
	missing := h.Task("missing", h.App("app", "env").Secret("DB_PASSWORD", "/e2e/not-there"))
	missing.ExecutionRoleArn = exec
	a.WriteTask("missing.json", missing.JSON())

	task := a.WaitTask(t, "secrets.json", 60*time.Second, h.IsRunning)
	app := h.Container(t, task, "app")
	waitLog(t, app.DockerID, "PASSWORD=", 30*time.Second)
	logs, _ := h.Logs(app.DockerID)
	for name, v := range values {
		if !strings.Contains(logs, "\n"+name+"="+v+"\n") && !strings.HasPrefix(logs, name+"="+v+"\n") {
			t.Errorf("%s is not %q in the container's environment:\n%s", name, v, logs)
		}
	}

	stopped := a.WaitTask(t, "missing.json", 30*time.Second, h.IsStopped)
	if r := stopped.Status.StoppedReason; !strings.Contains(r, "ResourceInitializationError") || !strings.Contains(r, "DB_PASSWORD (/e2e/not-there)") {
		t.Errorf("missing secret: stopped reason %q; want a ResourceInitializationError naming DB_PASSWORD (/e2e/not-there)", r)
	}

	places := map[string]string{}
	for _, args := range [][]string{{"get", "tasks", "-o", "yaml"}, {"get", "credentials", "-o", "yaml"}, {"get", "events", "-o", "yaml"}, {"describe", "task", task.Name}, {"describe", "task", stopped.Name}} {
		out, err := a.CLI(args...)
		if err != nil {
			t.Fatal(err)
		}
		places["ecs-agent "+strings.Join(args, " ")] = string(out)
	}
	for _, path := range []string{"/agent/v1/tasks", "/agent/v1/events", "/agent/v1/credentials", "/v1/tasks"} {
		code, body := get(t, a.URL(path))
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		places["GET "+path] = body
	}
	db, err := os.ReadFile(filepath.Join(a.DataDir, "agent.db"))
	if err != nil {
		t.Fatal(err)
	}
	places["the store file"] = string(db)
	log, err := os.ReadFile(a.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	places["the debug log"] = string(log)
	if !strings.Contains(places["ecs-agent describe task "+task.Name], "PASSWORD from "+smARN+":password::") {
		t.Errorf("describe does not show the secret's reference, so the search below may look in the wrong place:\n%s", places["ecs-agent describe task "+task.Name])
	}
	for where, text := range places {
		for name, v := range values {
			if strings.Contains(text, v) {
				t.Errorf("%s holds the value of %s", where, name)
			}
		}
	}
	t.Logf("searched %d places for %d secret values", len(places), len(values))
}
