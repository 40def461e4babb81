package registryauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ecs-agent/ecs-agent/hack/fakeecr"
	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

const digest64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestRegistryOfImageReference(t *testing.T) {
	for ref, want := range map[string]string{
		"nginx":                DockerHub,
		"library/nginx:1":      DockerHub,
		"me/app@sha256:abc":    DockerHub,
		"127.0.0.1:5000/app:1": "127.0.0.1:5000",
		"localhost/app":        "localhost",
		"quay.io/org/app:2":    "quay.io",
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1": "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
		// Where a hand-written rule (a dot, a port or "localhost" makes a
		// host) disagreed with Docker:
		"Registry/app":              "registry", // an upper-case first component is a host to Docker
		"[::1]:5000/app":            "[::1]:5000",
		"index.docker.io/library/x": DockerHub,
		"docker.io/library/nginx:1": DockerHub,
		"me/app@sha256:" + digest64: DockerHub,
		"not a reference":           DockerHub,
	} {
		if got := Registry(ref); got != want {
			t.Errorf("Registry(%q) = %q; want %q", ref, got, want)
		}
	}
}

func TestEngineAuthMatchesRegistryInAnySpelling(t *testing.T) {
	r := &Resolver{Engine: map[string]config.RegistryAuth{
		"https://index.docker.io/v1/": {Username: "hub", Password: config.NewSecret("p1")},
		"http://127.0.0.1:5000":       {Username: "local", Password: config.NewSecret("p2")},
	}}
	cases := map[string]string{"nginx:1": "hub", "127.0.0.1:5000/app": "local", "quay.io/x/y": ""}
	for ref, user := range cases {
		a, err := r.Auth(context.Background(), Request{Image: ref})
		if err != nil {
			t.Fatalf("Auth(%s): %v", ref, err)
		}
		if a.Username != user {
			t.Errorf("Auth(%s).Username = %q; want %q", ref, a.Username, user)
		}
		if user != "" && a.Source != "ECS_ENGINE_AUTH_DATA" {
			t.Errorf("Auth(%s).Source = %q", ref, a.Source)
		}
	}
}

func TestRepositoryCredentialsComeFromTheStaticFileAndWinOverEngineAuth(t *testing.T) {
	path := filepath.Join(t.TempDir(), StaticSecretsFile)
	if err := os.WriteFile(path, []byte(`{"arn:aws:secretsmanager:us-east-1:1:secret:reg": {"username": "u", "password": "s3cret"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &Resolver{
		Engine:  map[string]config.RegistryAuth{"127.0.0.1:5000": {Username: "engine", Password: config.NewSecret("x")}},
		Secrets: StaticSecrets{Path: path},
	}
	a, err := r.Auth(context.Background(), Request{Image: "127.0.0.1:5000/app", CredentialsParameter: "arn:aws:secretsmanager:us-east-1:1:secret:reg"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Username != "u" || a.Password != "s3cret" || a.ServerAddress != "127.0.0.1:5000" {
		t.Errorf("auth = %+v", a)
	}
	_, err = r.Auth(context.Background(), Request{Image: "127.0.0.1:5000/app", CredentialsParameter: "other"})
	if err == nil || !strings.Contains(err.Error(), "repositoryCredentials other") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("unknown parameter: err = %v; want it named, without the file's secrets", err)
	}
}

func TestStaticSecretsPathIsBesideTheConfigFile(t *testing.T) {
	if got := StaticSecretsPath(""); got != "/etc/ecs/repository-credentials.json" {
		t.Errorf("default = %s", got)
	}
	if got := StaticSecretsPath("/tmp/x/ecs.config"); got != "/tmp/x/repository-credentials.json" {
		t.Errorf("beside = %s", got)
	}
}

func newECR(t *testing.T, fake *fakeecr.Server, now func() time.Time) *ECR {
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return &ECR{
		Config: func(context.Context) (aws.Config, error) {
			return aws.Config{
				Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
				Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
			}, nil
		},
		Endpoint: srv.URL,
		Now:      now,
	}
}

func TestECRTokenIsFetchedSignedAndCachedUntilShortlyBeforeExpiry(t *testing.T) {
	fake := fakeecr.New("AWS", "ecr-password", 4*time.Hour)
	now := time.Now()
	e := newECR(t, fake, func() time.Time { return now })
	r := &Resolver{ECR: e}
	req := Request{Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1"}
	for range 3 {
		a, err := r.Auth(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if a.Username != "AWS" || a.Password != "ecr-password" || a.Source != "ECR" {
			t.Fatalf("auth = %+v", a)
		}
	}
	calls := fake.Calls()
	if len(calls) != 1 || !calls[0].Signed || len(calls[0].RegistryIDs) != 1 || calls[0].RegistryIDs[0] != "123456789012" {
		t.Fatalf("calls = %+v; want one signed call for account 123456789012", calls)
	}
	now = now.Add(4*time.Hour - 31*time.Minute) // still valid, not yet renewing
	if _, err := r.Auth(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Calls()); n != 1 {
		t.Fatalf("calls after 3h29m = %d; want the cached token", n)
	}
	now = now.Add(2 * time.Minute) // within 30 minutes of expiry
	if _, err := r.Auth(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Calls()); n != 2 {
		t.Fatalf("calls near expiry = %d; want a renewal", n)
	}
}

func TestECRFailureNamesTheRegistryAndTheError(t *testing.T) {
	fake := fakeecr.New("AWS", "p", 0)
	fake.Fail("AccessDeniedException")
	r := &Resolver{ECR: newECR(t, fake, time.Now)}
	_, err := r.Auth(context.Background(), Request{Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"})
	if err == nil || !strings.Contains(err.Error(), "123456789012.dkr.ecr.us-east-1.amazonaws.com") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("err = %v", err)
	}
}

// AWS configuration is loaded for ECR pulls only: a broken one (a missing
// AWS_PROFILE) fails those pulls, naming the registry, and nothing else.
func TestAWSConfigurationIsLoadedOnlyForECRPulls(t *testing.T) {
	loads := 0
	r := FromConfig(&config.Config{}, func(context.Context) (aws.Config, error) {
		loads++
		return aws.Config{}, errors.New("failed to get shared config profile, nope")
	}, nil, nil)
	if a, err := r.Auth(context.Background(), Request{Image: "127.0.0.1:5000/app"}); err != nil || a != (Auth{}) || loads != 0 {
		t.Fatalf("non-ECR image: auth %+v, err %v, %d AWS configuration loads; want anonymous, none", a, err, loads)
	}
	_, err := r.Auth(context.Background(), Request{Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"})
	if err == nil || !strings.Contains(err.Error(), "123456789012.dkr.ecr.us-east-1.amazonaws.com") || !strings.Contains(err.Error(), "profile, nope") || loads != 1 {
		t.Fatalf("ECR image: err = %v after %d loads; want the load's error naming the registry", err, loads)
	}
}

// TestSlowECRRegionHoldsUpNoOtherRegistry: token requests of one registry
// wait for each other (one request for concurrent pulls), never for
// another registry's.
func TestSlowECRRegionHoldsUpNoOtherRegistry(t *testing.T) {
	fake := fakeecr.New("AWS", "p", 4*time.Hour)
	release := make(chan struct{})
	var slowCalls atomic.Int32
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), "/us-east-1/") {
			slowCalls.Add(1)
			<-release
		}
		fake.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(slow)
	t.Cleanup(srv.Close)
	defer close(release)
	e := newECR(t, fake, nil)
	e.Endpoint = srv.URL
	ctx := context.Background()
	for range 2 {
		go func() { _, _, _ = e.Token(ctx, "111111111111.dkr.ecr.us-east-1.amazonaws.com", "") }()
	}
	testwait.For(t, "the slow region's request in flight", 10*time.Second, 5*time.Millisecond, func() (bool, string) {
		return slowCalls.Load() == 1, fmt.Sprintf("%d requests", slowCalls.Load())
	})
	done := make(chan error, 1)
	go func() {
		_, _, err := e.Token(ctx, "222222222222.dkr.ecr.eu-west-1.amazonaws.com", "")
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a token for eu-west-1 waited 10s behind a slow us-east-1 request")
	}
	if n := slowCalls.Load(); n != 1 {
		t.Fatalf("%d requests to the slow region for two concurrent pulls, want 1", n)
	}
}
