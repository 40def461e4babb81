package fakeecr_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"

	"github.com/ecs-agent/ecs-agent/hack/fakeecr"
)

// TestRealClientGetsTokenAndUnsignedCallsAreTold: the real SDK client's signed call gets a
// user:password token for each registry id, expiring after the lifetime, with the proxy endpoint
// of the signing region; a call without a SigV4 header is answered too but recorded as unsigned,
// so the "was signed" checks of the agent's tests can fail; Fail answers with the error code.
func TestRealClientGetsTokenAndUnsignedCallsAreTold(t *testing.T) {
	fake := fakeecr.New("AWS", "secret-pass", time.Hour)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c := ecr.New(ecr.Options{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1,
	})

	out, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{RegistryIds: []string{"111122223333"}})
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	if len(out.AuthorizationData) != 1 {
		t.Fatalf("authorization data %+v, want one entry", out.AuthorizationData)
	}
	d := out.AuthorizationData[0]
	tok, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
	if err != nil || string(tok) != "AWS:secret-pass" {
		t.Fatalf("token %q (%v), want base64 of AWS:secret-pass", tok, err)
	}
	if left := time.Until(aws.ToTime(d.ExpiresAt)); left <= 50*time.Minute || left > time.Hour {
		t.Fatalf("token expires in %v, want the 1 h lifetime", left)
	}
	if got, want := aws.ToString(d.ProxyEndpoint), "https://111122223333.dkr.ecr.eu-west-1.amazonaws.com"; got != want {
		t.Fatalf("proxy endpoint %s, want %s", got, want)
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", fakeecr.Target)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("unsigned call: %s", resp.Status)
	}
	calls := fake.Calls()
	if len(calls) != 2 || !calls[0].Signed || calls[1].Signed || len(calls[0].RegistryIDs) != 1 || calls[0].RegistryIDs[0] != "111122223333" {
		t.Fatalf("calls %+v; want a signed one for 111122223333, then an unsigned one", calls)
	}

	fake.Fail("AccessDeniedException")
	_, err = c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("after Fail: %v, want AccessDeniedException", err)
	}
	fake.Fail("")
	if _, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}); err != nil {
		t.Fatalf("after healing: %v", err)
	}
}
