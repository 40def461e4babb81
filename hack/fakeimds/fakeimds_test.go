package fakeimds_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/ecs-agent/ecs-agent/hack/fakeimds"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestRealIMDSClientReadsIdentityRegionAndInstanceID(t *testing.T) {
	fake := fakeimds.New(fakeimds.Options{Document: fakeimds.Document{Region: "eu-west-1", InstanceID: "i-0feedfacecafe0001"}})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c := imds.New(imds.Options{Endpoint: srv.URL})

	doc, err := c.GetInstanceIdentityDocument(ctx(t), &imds.GetInstanceIdentityDocumentInput{})
	if err != nil {
		t.Fatalf("GetInstanceIdentityDocument: %v", err)
	}
	if doc.Region != "eu-west-1" || doc.InstanceID != "i-0feedfacecafe0001" || doc.AccountID != "123456789012" ||
		doc.AvailabilityZone != "eu-west-1a" || doc.InstanceType == "" || doc.PrivateIP == "" {
		t.Fatalf("document %+v", doc.InstanceIdentityDocument)
	}
	sig, err := c.GetDynamicData(ctx(t), &imds.GetDynamicDataInput{Path: "instance-identity/signature"})
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	b, _ := io.ReadAll(sig.Content)
	if len(b) == 0 {
		t.Fatal("empty signature")
	}
	region, err := c.GetRegion(ctx(t), &imds.GetRegionInput{})
	if err != nil || region.Region != "eu-west-1" {
		t.Fatalf("GetRegion = %q, %v", region.Region, err)
	}
	id, err := c.GetMetadata(ctx(t), &imds.GetMetadataInput{Path: "instance-id"})
	if err != nil {
		t.Fatalf("instance-id: %v", err)
	}
	b, _ = io.ReadAll(id.Content)
	if string(b) != "i-0feedfacecafe0001" {
		t.Fatalf("instance-id %q", b)
	}
	if n := fake.Requests()["/latest/api/token"]; n != 1 {
		t.Fatalf("token requests %d, want 1 (the client caches its token)", n)
	}
	if fake.Rejected() != 0 {
		t.Fatalf("%d requests rejected", fake.Rejected())
	}
}

func TestRequestsWithoutTokenAreRefused(t *testing.T) {
	srv := httptest.NewServer(fakeimds.New(fakeimds.Options{}))
	t.Cleanup(srv.Close)
	get := func(tok string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/latest/meta-data/instance-id", nil)
		if tok != "" {
			req.Header.Set(fakeimds.TokenHeader, tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Fatalf("without token: %d, want 401", code)
	}
	if code := get("made-up"); code != http.StatusUnauthorized {
		t.Fatalf("unknown token: %d, want 401", code)
	}

	put := func(ttl string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/latest/api/token", nil)
		if ttl != "" {
			req.Header.Set(fakeimds.TokenTTLHeader, ttl)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	if resp, _ := put(""); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("token without TTL: %d, want 400", resp.StatusCode)
	}
	resp, tok := put("1")
	if resp.StatusCode != http.StatusOK || resp.Header.Get(fakeimds.TokenTTLHeader) != "1" || strings.TrimSpace(tok) == "" {
		t.Fatalf("token: %d ttl %q", resp.StatusCode, resp.Header.Get(fakeimds.TokenTTLHeader))
	}
	if code := get(tok); code != http.StatusOK {
		t.Fatalf("with token: %d", code)
	}
	// The TTL is honoured: a 1-second token stops working.
	testwait.For(t, "a 1-second token to stop working", 5*time.Second, 100*time.Millisecond, func() (bool, string) {
		code := get(tok)
		return code == http.StatusUnauthorized, fmt.Sprintf("status %d", code)
	})
}

func TestEC2RoleCredentialsThroughRealProvider(t *testing.T) {
	fake := fakeimds.New(fakeimds.Options{Role: &fakeimds.Role{Name: "ecsInstanceRole",
		AccessKeyID: "ASIAFAKE", SecretAccessKey: "fake-secret", SessionToken: "fake-token"}})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = imds.New(imds.Options{Endpoint: srv.URL}) })
	creds, err := p.Retrieve(ctx(t))
	if err != nil {
		t.Fatalf("Retrieve: %v", err)
	}
	if creds.AccessKeyID != "ASIAFAKE" || creds.SessionToken != "fake-token" || !creds.CanExpire {
		t.Fatalf("credentials: key %s, can expire %v", creds.AccessKeyID, creds.CanExpire)
	}
}
