package secrets

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/hack/fakeaws"
	rolecreds "github.com/ecs-agent/ecs-agent/internal/credentials"
)

const (
	plain     = "plain-config-value"
	secure    = "s3cure-db-pa55word"
	whole     = `{"user":"admin","password":"sm-pa55word","port":5432}`
	previous  = `{"user":"admin","password":"old-pa55word"}`
	agentKey  = "AKIDAGENT"
	agentPass = "agent-secret"
)

type world struct {
	reader        *Reader
	exec, other   string
	ssmARN, smARN string
	smVersion     string
	registryARN   string
}

// newWorld serves a fake AWS with an execution role that may read the
// secrets and another that may not; the reader assumes roles with STS as
// the agent does, and reaches every service at the fake's URL.
func newWorld(t *testing.T) *world {
	t.Helper()
	f := fakeaws.New(fakeaws.Options{Region: "us-west-2"})
	f.AddUser("agent", agentKey, agentPass)
	w := &world{exec: f.AddRole("exec"), other: f.AddRole("other")}
	f.PutParameter(fakeaws.Parameter{Name: "/app/config", Value: plain})
	w.ssmARN = f.PutParameter(fakeaws.Parameter{Name: "db-password", Value: secure, Type: fakeaws.ParameterSecureString, Readers: []string{w.exec}})
	w.smARN, _ = f.PutSecret("db", previous, w.exec)
	_, w.smVersion = f.PutSecret("db", whole)
	w.registryARN, _ = f.PutSecret("registry", `{"username":"puller","password":"reg-pa55word"}`, w.exec)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	base := aws.Config{Region: "us-west-2", Retryer: func() aws.Retryer { return aws.NopRetryer{} }, BaseEndpoint: aws.String(srv.URL)}
	w.reader = &Reader{
		Config: func(context.Context) (aws.Config, error) { return base, nil },
		Role: func(roleArn string) aws.CredentialsProvider {
			agent := &rolecreds.STS{Config: func(context.Context) (aws.Config, error) {
				cfg := base.Copy()
				cfg.Credentials = credentials.NewStaticCredentialsProvider(agentKey, agentPass, "")
				return cfg, nil
			}}
			c, err := agent.AssumeRole(context.Background(), roleArn, "exec")
			if err != nil {
				t.Fatalf("assume %s: %v", roleArn, err)
			}
			return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
		},
	}
	return w
}

func TestEveryKindOfSecretReachesTheEnvironment(t *testing.T) {
	w := newWorld(t)
	env, err := w.reader.Env(context.Background(), w.exec, []apiv1.Secret{
		{Name: "CONFIG", ValueFrom: "/app/config"},
		{Name: "DB_PASSWORD", ValueFrom: w.ssmARN},
		{Name: "WHOLE", ValueFrom: w.smARN},
		{Name: "PASSWORD", ValueFrom: w.smARN + ":password::"},
		{Name: "PORT", ValueFrom: w.smARN + ":port::"},
		{Name: "OLD_PASSWORD", ValueFrom: w.smARN + ":password:AWSPREVIOUS:"},
		{Name: "BY_VERSION", ValueFrom: w.smARN + ":user::" + w.smVersion},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CONFIG=" + plain, "DB_PASSWORD=" + secure, "WHOLE=" + whole, "PASSWORD=sm-pa55word", "PORT=5432", "OLD_PASSWORD=old-pa55word", "BY_VERSION=admin"}
	if !slices.Equal(env, want) {
		t.Fatalf("env\n got %q\nwant %q", env, want)
	}
}

// A secret that is missing or that the role may not read is an error that
// names the secret and never holds a value, and no retry will help.
func TestUnreadableSecretsNameTheSecretAndNeverAValue(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		role   string
		secret apiv1.Secret
		says   string
	}{
		{w.exec, apiv1.Secret{Name: "MISSING", ValueFrom: "/app/missing"}, "invalid parameters"},
		{w.other, apiv1.Secret{Name: "DENIED", ValueFrom: w.ssmARN}, "AccessDenied"},
		{w.exec, apiv1.Secret{Name: "GONE", ValueFrom: "arn:aws:secretsmanager:us-west-2:123456789012:secret:gone-AbCdEf"}, "ResourceNotFound"},
		{w.other, apiv1.Secret{Name: "DENIED_SM", ValueFrom: w.smARN}, "AccessDenied"},
		{w.exec, apiv1.Secret{Name: "NOKEY", ValueFrom: w.smARN + ":nope::"}, `no key "nope"`},
		{"", apiv1.Secret{Name: "NOROLE", ValueFrom: "/app/config"}, "executionRoleArn"},
	} {
		_, err := w.reader.Env(context.Background(), c.role, []apiv1.Secret{{Name: "FINE", ValueFrom: "/app/config"}, c.secret})
		var se *Error
		if !errors.As(err, &se) || !se.Permanent || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v; want a permanent error saying %q", c.secret.Name, err, c.says)
			continue
		}
		if c.role != "" && !strings.Contains(err.Error(), c.secret.Name) {
			t.Errorf("%s: %v does not name the secret", c.secret.Name, err)
		}
		for _, v := range []string{plain, secure, "sm-pa55word", "old-pa55word"} {
			if strings.Contains(err.Error(), v) {
				t.Errorf("%s: the error shows a value: %v", c.secret.Name, err)
			}
		}
	}
}

func TestRepositoryCredentialsComeFromSecretsManagerWithTheExecutionRole(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, param := range []string{w.registryARN, "registry"} {
		user, pass, err := w.reader.RepositoryCredentials(ctx, param, w.exec)
		if err != nil || user != "puller" || pass != "reg-pa55word" {
			t.Errorf("RepositoryCredentials(%s) = %q, %q, %v", param, user, pass, err)
		}
	}
	if _, _, err := w.reader.RepositoryCredentials(ctx, w.registryARN, w.other); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("another role: %v; want AccessDenied", err)
	}
	if _, _, err := w.reader.RepositoryCredentials(ctx, w.smARN, w.exec); err == nil || strings.Contains(err.Error(), "sm-pa55word") {
		t.Errorf("a secret that is not username/password: %v; want an error without its value", err)
	}
}
