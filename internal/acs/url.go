package acs

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecs-agent/ecs-agent/internal/ecsws"
)

// ProtocolVersion 2 tells ACS that this agent acks heartbeats, so ACS may
// drop sessions whose heartbeats go unacked.
const ProtocolVersion = 2

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
	u, err := ecsws.URL(endpoint, q)
	if err != nil {
		return "", fmt.Errorf("ACS %w", err)
	}
	return u, nil
}

// SignedHeaders are the headers of the upgrade request that carry its SigV4
// signature: Authorization, X-Amz-Date and, with temporary credentials,
// X-Amz-Security-Token.
func SignedHeaders(ctx context.Context, wsURL string, creds aws.CredentialsProvider, region string, now time.Time) (http.Header, error) {
	return ecsws.SignedHeaders(ctx, wsURL, creds, region, now)
}
