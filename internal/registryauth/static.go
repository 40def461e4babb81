package registryauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/trustedfile"
)

// StaticSecretsFile is the name of the file StaticSecrets reads, beside
// ecs.config (so /etc/ecs/repository-credentials.json by default).
const StaticSecretsFile = "repository-credentials.json"

// StaticSecretsPath is where an agent whose configuration file is
// configFile ("" for none) finds its static repository credentials.
func StaticSecretsPath(configFile string) string {
	if configFile == "" {
		configFile = config.DefaultFile
	}
	return filepath.Join(filepath.Dir(configFile), StaticSecretsFile)
}

// StaticSecrets serves repositoryCredentials from a JSON file that maps
// each credentialsParameter (a Secrets Manager ARN or name, as the task
// definition writes it) to the secret's value in the shape Secrets
// Manager holds it for ECS:
//
//	{"arn:aws:secretsmanager:us-east-1:123456789012:secret:reg-AbCdEf":
//	    {"username": "me", "password": "…"}}
//
// It lets an offline agent run task definitions written for ECS unchanged.
// The file is read on every request, so edits apply to the next pull; it
// should be readable by root only.
type StaticSecrets struct {
	Path string
}

var _ SecretSource = StaticSecrets{}

type staticSecret struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// RepositoryCredentials implements SecretSource. Errors never quote the
// file: it holds passwords.
func (s StaticSecrets) RepositoryCredentials(_ context.Context, parameter, _ string) (string, string, error) {
	b, err := trustedfile.ReadFile(s.Path, 1<<20)
	if errors.Is(err, os.ErrNotExist) {
		return "", "", fmt.Errorf("no secret source: %s does not exist (the agent fetches secrets from Secrets Manager only once it has a control plane)", s.Path)
	}
	if err != nil {
		return "", "", fmt.Errorf("read %s: %w", s.Path, err)
	}
	var secrets map[string]staticSecret
	if err := json.Unmarshal(b, &secrets); err != nil {
		return "", "", fmt.Errorf("%s is not a JSON object of {\"username\", \"password\"} by credentialsParameter", s.Path)
	}
	sec, ok := secrets[parameter]
	if !ok {
		return "", "", fmt.Errorf("not found in %s", s.Path)
	}
	if sec.Username == "" || sec.Password == "" {
		return "", "", fmt.Errorf("its entry in %s needs both \"username\" and \"password\"", s.Path)
	}
	return sec.Username, sec.Password, nil
}
