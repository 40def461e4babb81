package harness

import (
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/hack/fakeaws"
)

// The agent's own AWS identity in the fake AWS.
const (
	AgentAccessKey = "AKIDECSAGENTTEST"
	agentSecretKey = "ecs-agent-test-secret"
	// Region is the region the agent and its tasks are given.
	Region = "us-west-2"
)

// FakeAWS is hack/fakeaws (STS, SSM, Secrets Manager) served on the
// Docker bridge's address, which the agent, bridge-network containers and
// host-network containers all reach.
type FakeAWS struct {
	*fakeaws.Fake
	// URL is http://<docker0 address>:<port>.
	URL string
}

// StartFakeAWS serves a fake AWS whose one user is the agent, until the
// test ends.
func StartFakeAWS(tb testing.TB, opts fakeaws.Options) *FakeAWS {
	tb.Helper()
	ip := BridgeAddress(tb)
	lis, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		tb.Fatalf("fake AWS: listen: %v", err)
	}
	opts.Region = Region
	f := fakeaws.New(opts)
	f.AddUser("ecs-agent", AgentAccessKey, agentSecretKey)
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	tb.Cleanup(func() { srv.Close() })
	return &FakeAWS{Fake: f, URL: "http://" + lis.Addr().String()}
}

// AgentEnv is what points the agent's AWS SDK at the fake with its key.
func (f *FakeAWS) AgentEnv() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AgentAccessKey,
		"AWS_SECRET_ACCESS_KEY=" + agentSecretKey,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_STS=" + f.URL,
		"AWS_ENDPOINT_URL_SSM=" + f.URL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + f.URL,
	}
}

// BridgeAddress is docker0's IPv4 address: the host as bridge-network
// containers reach it. It skips tb on a host without one.
func BridgeAddress(tb testing.TB) string {
	tb.Helper()
	ip, err := bridgeAddress()
	if err != nil {
		tb.Skipf("no Docker bridge address: %v", err)
	}
	return ip
}

func bridgeAddress() (string, error) {
	ifc, err := net.InterfaceByName("docker0")
	if err != nil {
		return "", err
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			return n.IP.String(), nil
		}
	}
	return "", errors.New("docker0 has no IPv4 address")
}
