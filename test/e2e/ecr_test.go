package e2e

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ecs-agent/ecs-agent/hack/fakeecr"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// ecrAgentEnv points the agent's ECR client at the fake ECR endpoint
// through the SDK's own service endpoint variable, with static test
// credentials (the fake checks the request is signed, not by whom).
func ecrAgentEnv(t *testing.T, ecr *fakeecr.Server) []string {
	t.Helper()
	srv := httptest.NewServer(ecr)
	t.Cleanup(srv.Close)
	return []string{
		"AWS_ENDPOINT_URL_ECR=" + srv.URL,
		"AWS_ACCESS_KEY_ID=AKIDE2EECRTEST",
		"AWS_SECRET_ACCESS_KEY=e2e-ecr-test-secret",
		"AWS_EC2_METADATA_DISABLED=true",
		// Every task pulls, so the second task needs credentials again.
		"ECS_IMAGE_PULL_BEHAVIOR=always",
	}
}

// TestECRTokenFlow: an image of an ECR-named registry is pulled with the
// user:password of a token from GetAuthorizationToken (the real SDK client
// against the fake endpoint, signed, for the registry's account); the
// token is cached, so a second task's pull asks ECR nothing.
func TestECRTokenFlow(t *testing.T) {
	t.Parallel()
	host := h.ECRRegistry(t)
	pushed := h.PushImage(t, h.TestImage, "e2e-ecr")
	ref := host + pushed[strings.Index(pushed, "/"):]
	t.Cleanup(func() { h.RemoveImage(ref) })

	ecr := fakeecr.New(h.RegistryUser, h.RegistryPassword, 0)
	a := h.Start(t, h.Options{Env: ecrAgentEnv(t, ecr)})
	a.WriteTask("first.json", registryTask("first", ref).JSON())
	a.WaitTask(t, "first.json", pullTimeout, h.IsRunning)
	a.WriteTask("second.json", registryTask("second", ref).JSON())
	a.WaitTask(t, "second.json", pullTimeout, h.IsRunning)

	if got := h.Pulls(t, ref); got != 2 {
		t.Errorf("registry saw %d pulls of %s; want 2 (ECS_IMAGE_PULL_BEHAVIOR=always)", got, ref)
	}
	calls := ecr.Calls()
	if len(calls) != 1 {
		t.Fatalf("fake ECR answered %d GetAuthorizationToken calls; want 1 (the token is cached): %+v", len(calls), calls)
	}
	if !calls[0].Signed {
		t.Errorf("GetAuthorizationToken was not SigV4-signed for ecr")
	}
	if account := strings.SplitN(host, ".", 2)[0]; !slices.Equal(calls[0].RegistryIDs, []string{account}) {
		t.Errorf("GetAuthorizationToken asked for registries %v; want [%s]", calls[0].RegistryIDs, account)
	}
}

// TestECRRefusalStopsTheTask: when ECR refuses the token, the task stops
// with a reason naming the registry and ECR's error, after one attempt (a
// refusal is not retried) and without reaching the registry.
func TestECRRefusalStopsTheTask(t *testing.T) {
	t.Parallel()
	host := h.ECRRegistry(t)
	ref := host + "/e2e-ecr-denied:1"

	ecr := fakeecr.New(h.RegistryUser, h.RegistryPassword, 0)
	ecr.Fail("AccessDeniedException")
	a := h.Start(t, h.Options{Env: ecrAgentEnv(t, ecr)})
	a.WriteTask("denied.json", registryTask("denied", ref).JSON())
	reason := stoppedWith(t, a, "denied.json")
	for _, want := range []string{"CannotPullContainerError", host, "GetAuthorizationToken", "AccessDeniedException"} {
		if !strings.Contains(reason, want) {
			t.Errorf("stopped reason %q does not contain %q", reason, want)
		}
	}
	t.Logf("stopped reason: %s", reason)
	if n := len(ecr.Calls()); n != 1 {
		t.Errorf("fake ECR answered %d calls; want 1 (AccessDenied is final)", n)
	}
	if got := h.Pulls(t, ref); got != 0 {
		t.Errorf("registry saw %d pulls of %s without a token; want 0", got, ref)
	}
}
