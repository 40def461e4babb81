package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/supportbundle"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// TestSupportBundleHasEveryPartAndNoSecretValue fills a support bundle from
// an agent configured with registry credentials and AWS keys that ran tasks
// with environment values and secrets, and searches every file of the
// archive for those values: none may be there, while the parts a bug
// report needs are.
func TestSupportBundleHasEveryPartAndNoSecretValue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	registryPassword := "reg-pw-" + randomWord(t)
	awsSecret := "aws-secret-" + randomWord(t)
	dbURL := "postgres://app:db-pw-" + randomWord(t) + "@db/prod"
	token := "tok-" + randomWord(t)
	// The agent and the command read the same file, as on a host.
	logFile := filepath.Join(dir, "log", "ecs-agent.log")
	cfgFile := filepath.Join(dir, "ecs.config")
	cfg := "ECS_LOGFILE=" + logFile + "\nECS_ENGINE_AUTH_TYPE=docker\n" +
		`ECS_ENGINE_AUTH_DATA={"registry.example:5000":{"username":"bundle-user","password":"` + registryPassword + `","email":"a@example.com"}}` + "\n" +
		"AWS_ACCESS_KEY_ID=AKIDBUNDLETEST\nAWS_SECRET_ACCESS_KEY=" + awsSecret + "\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	a := h.Start(t, h.Options{Env: []string{"ECS_CONFIG_FILE=" + cfgFile}})

	a.WriteTask("app.json", h.Task("app",
		h.App("app", "sleep").Env("DATABASE_URL", dbURL).Env("API_TOKEN", token).
			Secret("API_KEY", "arn:aws:ssm:us-east-1:123456789012:parameter/bundle-api-key"),
	).JSON())
	a.WriteTask("quits.json", h.Task("quits", h.App("job", "exit", "3").Env("JOB_TOKEN", token)).JSON())
	a.WaitTask(t, "app.json", startTimeout, func(task apiv1.Task) (bool, string) {
		return task.Status.KnownStatus == apiv1.StatusRunning || task.Status.KnownStatus == apiv1.StatusStopped, string(task.Status.KnownStatus)
	})
	a.WaitTask(t, "quits.json", startTimeout, h.IsStopped)

	bundle := filepath.Join(dir, "bundle.tar.gz")
	out, err := a.CLI("support-bundle", "--config", cfgFile, "-o", bundle)
	if err != nil {
		t.Fatalf("ecs-agent support-bundle: %v\n%s", err, out)
	}
	f, err := os.Open(bundle)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files, err := supportbundle.Files(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"README.txt", "version.txt", "config.txt", "objects/tasks.yaml", "objects/events.yaml",
		"objects/images.yaml", "docker/info.json", "docker/version.json", "metrics.txt", "logs/agent.log"} {
		if len(strings.TrimSpace(files[name])) == 0 {
			t.Errorf("%s is missing or empty in the bundle", name)
		}
	}
	for _, want := range []string{"DATABASE_URL", "API_TOKEN", "API_KEY", "bundle-api-key", "ECS_ENGINE_AUTH_TYPE=docker", "AKIDBUNDLETEST", "ecs_agent_task_transitions_total"} {
		if !anyHolds(files, want) {
			t.Errorf("the bundle lacks %q, which is no secret", want)
		}
	}
	auth := base64.StdEncoding.EncodeToString([]byte("bundle-user:" + registryPassword))
	for _, secret := range []string{registryPassword, auth, awsSecret, dbURL, token} {
		for name, data := range files {
			if strings.Contains(data, secret) {
				t.Errorf("%s holds the secret value %q", name, secret)
			}
		}
	}
}

func anyHolds(files map[string]string, s string) bool {
	for _, data := range files {
		if strings.Contains(data, s) {
			return true
		}
	}
	return false
}

// randomWord makes a value no other test or log line can hold by chance.
func randomWord(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
