package tcs

import (
	"fmt"
	"net/url"

	"github.com/ecs-agent/ecs-agent/internal/ecsws"
)

// Query parameter names of the upgrade URL.
const (
	ParamAgentHash         = "agentHash"
	ParamAgentVersion      = "agentVersion"
	ParamCluster           = "cluster"
	ParamContainerInstance = "containerInstance"
	ParamDockerVersion     = "dockerVersion"
)

// Params are what the upgrade URL says about the agent.
type Params struct {
	// Cluster is the configured cluster, verbatim (a name or an ARN).
	Cluster           string
	ContainerInstance string
	AgentVersion      string
	AgentHash         string
	// DockerVersion is the engine's version, bare (ACS prefixes it, TCS
	// does not); left out when unknown.
	DockerVersion string
}

// URL builds the websocket URL of a session from DiscoverPollEndpoint's
// telemetryEndpoint.
func URL(endpoint string, p Params) (string, error) {
	q := url.Values{}
	q.Set(ParamAgentHash, p.AgentHash)
	q.Set(ParamAgentVersion, p.AgentVersion)
	q.Set(ParamCluster, p.Cluster)
	q.Set(ParamContainerInstance, p.ContainerInstance)
	if p.DockerVersion != "" {
		q.Set(ParamDockerVersion, p.DockerVersion)
	}
	u, err := ecsws.URL(endpoint, q)
	if err != nil {
		return "", fmt.Errorf("TCS %w", err)
	}
	return u, nil
}
