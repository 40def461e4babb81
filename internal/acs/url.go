package acs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// ProtocolVersion 2 tells ACS that this agent acks heartbeats, so ACS may
// drop sessions whose heartbeats go unacked.
const ProtocolVersion = 2

// SigningService is the SigV4 service name of the upgrade request.
const SigningService = "ecs"

// emptyPayloadHash is the SHA-256 of an empty body: the upgrade is a GET.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Query parameter names of the upgrade URL (the model's PollRequest, plus
// the version info the ECS agent sends).
const (
	ParamAgentHash            = "agentHash"
	ParamAgentVersion         = "agentVersion"
	ParamClusterArn           = "clusterArn"
	ParamContainerInstanceArn = "containerInstanceArn"
	ParamDockerVersion        = "dockerVersion"
	ParamProtocolVersion      = "protocolVersion"
	ParamSendCredentials      = "sendCredentials"
	ParamSeqNum               = "seqNum"
)

// Params are what the upgrade URL says about the agent.
type Params struct {
	// Cluster is the configured cluster, verbatim (a name or an ARN).
	Cluster string
	// ContainerInstanceArn is the ARN RegisterContainerInstance returned.
	ContainerInstanceArn string
	AgentVersion         string
	AgentHash            string
	// DockerVersion is the engine's version; the parameter is left out when
	// it is unknown.
	DockerVersion string
	// SendCredentials asks ACS to push every task's credentials: true only
	// until the process's first successful upgrade.
	SendCredentials bool
}

// URL builds the websocket URL of a session from the DiscoverPollEndpoint
// endpoint: <endpoint>/ws?<params>, keys sorted, http→ws and https→wss.
func URL(endpoint string, p Params) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("ACS endpoint %q: %w", endpoint, err)
	}
	switch u.Scheme {
	case "https", "wss":
		u.Scheme = "wss"
	case "http", "ws":
		u.Scheme = "ws"
	default:
		return "", fmt.Errorf("ACS endpoint %q: want an http(s) URL", endpoint)
	}
	if u.Host == "" {
		return "", fmt.Errorf("ACS endpoint %q has no host", endpoint)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.Path += "ws"
	q := url.Values{}
	q.Set(ParamAgentHash, p.AgentHash)
	q.Set(ParamAgentVersion, p.AgentVersion)
	q.Set(ParamClusterArn, p.Cluster)
	q.Set(ParamContainerInstanceArn, p.ContainerInstanceArn)
	if p.DockerVersion != "" {
		q.Set(ParamDockerVersion, "DockerVersion: "+p.DockerVersion)
	}
	q.Set(ParamProtocolVersion, strconv.Itoa(ProtocolVersion))
	q.Set(ParamSendCredentials, strconv.FormatBool(p.SendCredentials))
	q.Set(ParamSeqNum, "1")
	// Encode sorts by key and writes a space as "+", as the ECS agent does.
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// SignedHeaders are the headers of the upgrade request that carry its SigV4
// signature: Authorization, X-Amz-Date and, with temporary credentials,
// X-Amz-Security-Token.
func SignedHeaders(ctx context.Context, wsURL string, creds aws.CredentialsProvider, region string, now time.Time) (http.Header, error) {
	c, err := creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials to sign the ACS upgrade: %w", err)
	}
	req, err := SigningRequest(wsURL, nil)
	if err != nil {
		return nil, err
	}
	if err := v4.NewSigner().SignHTTP(ctx, c, req, emptyPayloadHash, SigningService, region, now); err != nil {
		return nil, fmt.Errorf("sign the ACS upgrade: %w", err)
	}
	h := http.Header{}
	for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := req.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	return h, nil
}

// SigningRequest is the request whose signature the upgrade carries: a GET
// of the websocket URL (as https, which SigV4 does not see) with only the
// given headers, which is also how a server rebuilds it to check one.
func SigningRequest(wsURL string, h http.Header) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, wsURL, nil)
	if err != nil {
		return nil, fmt.Errorf("ACS upgrade request for %s: %w", wsURL, err)
	}
	for _, k := range []string{"X-Amz-Date", "X-Amz-Security-Token"} {
		if v := h.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	return req, nil
}

// ErrBadSignature is wrapped by Verify's error when an upgrade request is
// unsigned or its signature is not the one the credentials make.
var ErrBadSignature = errors.New("SigV4 signature of the ACS upgrade does not verify")

// Verify checks an upgrade request's SigV4 signature the way a server does:
// it signs the same request again with the credentials the access key
// names and compares. It is the fake endpoint's check (hack/fakeecs).
func Verify(r *http.Request, creds aws.Credentials, region string) error {
	auth := r.Header.Get("Authorization")
	date, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if auth == "" || err != nil {
		return fmt.Errorf("%w: no Authorization or X-Amz-Date header", ErrBadSignature)
	}
	if !strings.Contains(auth, "Credential="+creds.AccessKeyID+"/") {
		return fmt.Errorf("%w: unknown access key", ErrBadSignature)
	}
	req, err := SigningRequest("ws://"+r.Host+r.URL.RequestURI(), r.Header)
	if err != nil {
		return err
	}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, req, emptyPayloadHash, SigningService, region, date); err != nil {
		return fmt.Errorf("re-sign the ACS upgrade: %w", err)
	}
	if req.Header.Get("Authorization") != auth {
		return ErrBadSignature
	}
	return nil
}
