package credentials

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/ecs-agent/ecs-agent/hack/fakeaws"
)

// The STS client is pointed at the test endpoint the way an operator
// points the SDK anywhere: AWS_ENDPOINT_URL_STS.
func TestAssumeRoleHonoursAWSEndpointURLSTS(t *testing.T) {
	fake := fakeaws.New(fakeaws.Options{})
	fake.AddUser("agent", "AKIDAGENT", "agent-secret")
	roleArn := fake.AddRole("app")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDAGENT")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "agent-secret")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	s := &STS{Config: func(ctx context.Context) (aws.Config, error) {
		return awsconfig.LoadDefaultConfig(ctx)
	}}
	c, err := s.AssumeRole(context.Background(), roleArn, "ecs-0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if c.RoleArn != roleArn || c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" {
		t.Fatalf("credentials = %#v; want the role's keys", c)
	}
	if left := time.Until(c.Expiration); left < 59*time.Minute || left > time.Hour {
		t.Errorf("credentials expire in %s; want DefaultRoleDuration", left)
	}
	if n := fake.CallsOf("AssumeRole"); n != 1 {
		t.Fatalf("the fake answered %d AssumeRole calls; want 1", n)
	}

	_, err = s.AssumeRole(context.Background(), "arn:aws:iam::123456789012:role/not-there", "s")
	if err == nil || !Permanent(err) {
		t.Fatalf("assume a role that does not exist: %v; want a permanent error", err)
	}
}

func TestSessionNamesAreWhatSTSAccepts(t *testing.T) {
	for in, want := range map[string]string{
		"ecs-abc":                "ecs-abc",
		"a b/c":                  "a-b-c",
		"x":                      "x-",
		string(make([]byte, 70)): "----------------------------------------------------------------",
	} {
		if got := SessionName(in); got != want {
			t.Errorf("SessionName(%q) = %q; want %q", in, got, want)
		}
	}
}
