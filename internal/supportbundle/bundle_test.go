package supportbundle

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/introspection"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Values that must not leave the host.
const (
	registryPassword = "registry-pw-7f3a9c"
	awsSecret        = "aws-secret-Qm9vYmFy"
	envValue         = `postgres://app:db-pw-"11aa"&@db/prod`
	shortEnvValue    = "on" // redacted in objects, too short to scrub from text
)

func loadConfig(t *testing.T) *config.Config {
	t.Helper()
	file := filepath.Join(t.TempDir(), "ecs.config")
	auth := base64.StdEncoding.EncodeToString([]byte("bundle-user:" + registryPassword))
	content := "ECS_OFFLINE=true\nECS_ENGINE_AUTH_TYPE=dockercfg\n" +
		`ECS_ENGINE_AUTH_DATA={"registry.example:5000":{"auth":"` + auth + `","email":"a@example.com"}}` + "\n" +
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE\nAWS_SECRET_ACCESS_KEY=" + awsSecret + "\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(nil, file)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func objects(_ context.Context, res introspection.Resource) (store.ObjectList, error) {
	switch res.Name {
	case "tasks":
		task := apiv1.Task{Spec: apiv1.TaskSpec{Family: "web", Containers: []apiv1.ContainerSpec{{
			Name:        "app",
			Environment: []apiv1.KeyValue{{Name: "DATABASE_URL", Value: envValue}, {Name: "DEBUG", Value: shortEnvValue}},
			Secrets:     []apiv1.Secret{{Name: "API_KEY", ValueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/api-key"}},
		}}}}
		task.Name = "0123456789abcdef0123456789abcdef"
		return &apiv1.TaskList{Items: []apiv1.Task{task}}, nil
	case "events":
		ev := apiv1.Event{Reason: "Exited", Message: "container app exited: cannot reach " + envValue}
		ev.Name = "ev1"
		return &apiv1.EventList{Items: []apiv1.Event{ev}}, nil
	case "images":
		return nil, errors.New("agent API answered 500")
	}
	return res.NewList(), nil
}

type docker struct{}

func (docker) InfoJSON(context.Context) ([]byte, error) {
	return []byte(`{"ServerVersion":"20.10.24","HttpProxy":"http://xxxxx:xxxxx@proxy:3128"}`), nil
}

func (docker) VersionJSON(context.Context) ([]byte, error) {
	return []byte(`{"Version":"20.10.24"}`), nil
}

func TestBundleHoldsEveryPartAndNoSecretValue(t *testing.T) {
	cfg := loadConfig(t)
	// A log line as zap writes it: the value JSON-escaped, HTML left alone.
	var logLine bytes.Buffer
	enc := json.NewEncoder(&logLine)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string{"msg": "oops", "env": envValue, "auth": registryPassword}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, err := Write(context.Background(), &buf, "bundle", Sources{
		Version: "ecs-agent test", Config: cfg, Objects: objects, ObjectsFrom: "the test",
		Docker:  docker{},
		Metrics: func(context.Context) ([]byte, error) { return []byte("ecs_agent_task_transitions_total 3\n"), nil },
		Log: func(context.Context) ([]byte, string, error) {
			return logLine.Bytes(), "a test log", nil
		},
		Now: time.Unix(1_800_000_000, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	files, err := Files(&buf)
	if err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"README.txt", "version.txt", "config.txt", "objects/tasks.yaml", "objects/events.yaml",
		"docker/info.json", "docker/version.json", "metrics.txt", "logs/agent.log", "errors.txt"} {
		if _, ok := files[name]; !ok {
			t.Errorf("no %s in the bundle; it has %v", name, keys(files))
		}
	}
	if !strings.Contains(files["errors.txt"], "objects/images.yaml: not gathered: agent API answered 500") {
		t.Errorf("errors.txt does not name the part left out:\n%s", files["errors.txt"])
	}
	for _, want := range []string{"DATABASE_URL", "API_KEY", "arn:aws:ssm:us-east-1:123456789012:parameter/api-key", "AKIDEXAMPLE", "ECS_ENGINE_AUTH_TYPE=dockercfg"} {
		if !contains(files, want) {
			t.Errorf("the bundle lacks %q, which is no secret", want)
		}
	}
	auth := base64.StdEncoding.EncodeToString([]byte("bundle-user:" + registryPassword))
	for _, secret := range []string{registryPassword, auth, awsSecret, envValue, `db-pw-\"11aa\"`} {
		for name, data := range files {
			if strings.Contains(data, secret) {
				t.Errorf("%s holds the secret value %q:\n%s", name, secret, data)
			}
		}
	}
	if strings.Contains(files["objects/tasks.yaml"], "value: \""+shortEnvValue+"\"") || !strings.Contains(files["objects/tasks.yaml"], Redacted) {
		t.Errorf("task environment values are not redacted in the objects:\n%s", files["objects/tasks.yaml"])
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func contains(files map[string]string, s string) bool {
	for _, data := range files {
		if strings.Contains(data, s) {
			return true
		}
	}
	return false
}

func TestFileLogReadsTheLastLinesAcrossTheRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ecs-agent.log")
	if err := os.WriteFile(filepath.Join(dir, "ecs-agent-2026-11-27T13-00-00.000.log"), []byte("old 1\nold 2\nold 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("new 1\nnew 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lines, from, err := FileLog(path, 3)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(lines) != "old 3\nnew 1\nnew 2\n" {
		t.Errorf("last 3 lines = %q, want the rotated file's last and the current file's two", lines)
	}
	if !strings.Contains(from, path) {
		t.Errorf("from = %q, want it to name %s", from, path)
	}
}
