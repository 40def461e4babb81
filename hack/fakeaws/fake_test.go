package fakeaws

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const (
	agentKey    = "AKIDAGENT"
	agentSecret = "agent-secret"
)

func serve(t *testing.T, opts Options) (*Fake, string) {
	t.Helper()
	f := New(opts)
	f.AddUser("agent", agentKey, agentSecret)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func config(key, secret, token string) aws.Config {
	return aws.Config{
		Region:      "us-west-2",
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, token),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func stsClient(url string, cfg aws.Config) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(url) })
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func TestAssumedRoleCredentialsIdentifyAsTheRole(t *testing.T) {
	f, url := serve(t, Options{})
	roleArn := f.AddRole("app")
	ctx := context.Background()
	out, err := stsClient(url, config(agentKey, agentSecret, "")).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleArn), RoleSessionName: aws.String("task-1"), DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	c := out.Credentials
	if left := time.Until(*c.Expiration); left < 14*time.Minute || left > 15*time.Minute {
		t.Errorf("expiration in %s; want the 15 minutes asked for", left)
	}
	id, err := stsClient(url, config(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with the role's credentials: %v", err)
	}
	if want := "arn:aws:sts::123456789012:assumed-role/app/task-1"; aws.ToString(id.Arn) != want || aws.ToString(id.Account) != Account {
		t.Errorf("identity = %s in %s; want %s", aws.ToString(id.Arn), aws.ToString(id.Account), want)
	}
}

func TestRequestsAWSWouldRefuseAreRefused(t *testing.T) {
	f, url := serve(t, Options{})
	roleArn := f.AddRole("app")
	private := f.AddRole("private", "arn:aws:iam::123456789012:user/someone-else")
	ctx := context.Background()
	assume := func(cfg aws.Config, role string) error {
		_, err := stsClient(url, cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")})
		return err
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"wrong secret", assume(config(agentKey, "not-the-secret", ""), roleArn), "SignatureDoesNotMatch"},
		{"unknown key", assume(config("AKIDNOBODY", agentSecret, ""), roleArn), "InvalidClientTokenId"},
		{"role that does not exist", assume(config(agentKey, agentSecret, ""), "arn:aws:iam::123456789012:role/nope"), "AccessDenied"},
		{"role that does not trust the caller", assume(config(agentKey, agentSecret, ""), private), "AccessDenied"},
	} {
		if got := errorCode(c.err); got != c.want {
			t.Errorf("%s: error %v (code %q); want %s", c.name, c.err, got, c.want)
		}
	}

	resp, err := http.PostForm(url, map[string][]string{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned GetCallerIdentity: %s; want 403", resp.Status)
	}
	if calls := f.Calls(); calls[len(calls)-1].Error != "MissingAuthenticationToken" {
		t.Errorf("unsigned call recorded as %+v", calls[len(calls)-1])
	}
}

func TestTamperedBodyFailsTheSignature(t *testing.T) {
	_, srv := serve(t, Options{})
	// A signer that signs one body, then a transport that sends another.
	cfg := config(agentKey, agentSecret, "")
	cfg.HTTPClient = &http.Client{Transport: tamper{http.DefaultTransport}}
	_, err := stsClient(srv, cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if errorCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("tampered request: %v; want SignatureDoesNotMatch", err)
	}
}

type tamper struct{ rt http.RoundTripper }

func (t tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	body := url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}, "X": {"y"}}.Encode()
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
	return t.rt.RoundTrip(r)
}

func TestExpiredSessionIsRefused(t *testing.T) {
	now := time.Now()
	f, url := serve(t, Options{Lifetime: time.Minute, Now: func() time.Time { return now }})
	roleArn := f.AddRole("app")
	ctx := context.Background()
	out, err := stsClient(url, config(agentKey, agentSecret, "")).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	now = now.Add(2 * time.Minute)
	_, err = stsClient(url, config(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if errorCode(err) != "ExpiredToken" {
		t.Fatalf("call with expired credentials: %v; want ExpiredToken", err)
	}
}

func roleConfig(t *testing.T, f *Fake, url, roleArn string) aws.Config {
	t.Helper()
	out, err := stsClient(url, config(agentKey, agentSecret, "")).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("exec")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	return config(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
}

func TestParametersAreReadAsTheRoleMay(t *testing.T) {
	f, url := serve(t, Options{})
	exec := f.AddRole("exec")
	other := f.AddRole("other")
	f.PutParameter(Parameter{Name: "/app/plain", Value: "plain-value"})
	secureARN := f.PutParameter(Parameter{Name: "db-password", Value: "s3cret", Type: ParameterSecureString, Readers: []string{exec}})
	client := ssm.NewFromConfig(roleConfig(t, f, url, exec), func(o *ssm.Options) { o.BaseEndpoint = aws.String(url) })
	ctx := context.Background()
	out, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/app/plain", secureARN, "/missing"}, WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetParameters: %v", err)
	}
	got := map[string]string{}
	for _, p := range out.Parameters {
		got[aws.ToString(p.Name)] = aws.ToString(p.Value)
	}
	if got["/app/plain"] != "plain-value" || got["db-password"] != "s3cret" || len(out.InvalidParameters) != 1 || out.InvalidParameters[0] != "/missing" {
		t.Errorf("parameters %v, invalid %v", got, out.InvalidParameters)
	}
	denied := ssm.NewFromConfig(roleConfig(t, f, url, other), func(o *ssm.Options) { o.BaseEndpoint = aws.String(url) })
	if _, err := denied.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"db-password"}, WithDecryption: aws.Bool(true)}); errorCode(err) != "AccessDeniedException" {
		t.Errorf("other role reading db-password: %v; want AccessDeniedException", err)
	}
}

func TestSecretVersionsAreChosenByIdAndStage(t *testing.T) {
	f, url := serve(t, Options{})
	exec := f.AddRole("exec")
	arn, v1 := f.PutSecret("db", `{"user":"u","password":"old"}`, exec)
	_, v2 := f.PutSecret("db", `{"user":"u","password":"new"}`)
	client := secretsmanager.NewFromConfig(roleConfig(t, f, url, exec), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url) })
	ctx := context.Background()
	for _, c := range []struct {
		in      secretsmanager.GetSecretValueInput
		version string
	}{
		{secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}, v2},
		{secretsmanager.GetSecretValueInput{SecretId: aws.String("db"), VersionStage: aws.String(StagePrevious)}, v1},
		{secretsmanager.GetSecretValueInput{SecretId: aws.String(arn[:len(arn)-7]), VersionId: aws.String(v1)}, v1},
	} {
		out, err := client.GetSecretValue(ctx, &c.in)
		if err != nil {
			t.Fatalf("GetSecretValue(%s): %v", aws.ToString(c.in.SecretId), err)
		}
		if aws.ToString(out.VersionId) != c.version {
			t.Errorf("GetSecretValue(%s, %s, %s) = version %s; want %s", aws.ToString(c.in.SecretId), aws.ToString(c.in.VersionStage), aws.ToString(c.in.VersionId), aws.ToString(out.VersionId), c.version)
		}
	}
	if _, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("missing secret: %v", err)
	}
	other := f.AddRole("other")
	denied := secretsmanager.NewFromConfig(roleConfig(t, f, url, other), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url) })
	if _, err := denied.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}); errorCode(err) != "AccessDeniedException" {
		t.Errorf("other role: %v; want AccessDeniedException", err)
	}
}
