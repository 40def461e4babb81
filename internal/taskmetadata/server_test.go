package taskmetadata

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

const (
	appEID   = "7b0c5a2e-1d4f-4c3b-9a8e-6f5d4c3b2a10"
	sideEID  = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
	dockerID = "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2"
)

// fakeDocker is the Docker cache as the endpoint reads it.
type fakeDocker map[string]dockerstate.Container

func (f fakeDocker) Container(id string) (dockerstate.Container, bool) {
	c, ok := f[id]
	return c, ok
}

// fakeStats serves fixed samples.
type fakeStats map[string]dockerstate.StatsSample

func (f fakeStats) Sample(id string) (dockerstate.StatsSample, bool) {
	s, ok := f[id]
	return s, ok
}

type fixture struct {
	t      testing.TB
	store  *store.Bolt
	holder *credentials.Holder
	stats  fakeStats
	url    string
	// handler is the endpoint's handler, for requests without a network.
	handler http.Handler
}

func newFixture(t testing.TB, limit Limit) *fixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "agent.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, store: st, holder: credentials.NewHolder(), stats: fakeStats{}}
	docker := fakeDocker{dockerID: {
		ID: dockerID, Labels: map[string]string{dockerstate.LabelTaskARN: "arn:aws:ecs:us-west-2:123456789012:task/prod/t1"},
		NetworkMode: "bridge", Networks: []dockerstate.Network{{Name: "bridge", IPv4: "172.17.0.5"}},
		Mounts: []dockerstate.Mount{{Name: "data", Source: "/var/lib/docker/volumes/data/_data", Target: "/data"}},
	}}
	srv := New(Options{Store: st, Credentials: f.holder, Docker: docker, Stats: f.stats, Limit: limit,
		ContainerInstanceTags: map[string]string{"team": "infra"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	f.handler = srv.Handler()
	ts := httptest.NewServer(f.handler)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	f.addTask()
	testwait.For(t, "the task in the endpoint's index", 5*time.Second, 10*time.Millisecond, func() (bool, string) {
		code, _ := f.get("/v4/" + appEID)
		return code == http.StatusOK, fmt.Sprint(code)
	})
	return f
}

// addTask stores a running bridge task: app (created, running, with a
// health check) and side (not created yet).
func (f *fixture) addTask() {
	mem := int64(256)
	created := metav1.NewMicroTime(time.Date(2026, 11, 2, 10, 0, 0, 123456000, time.FixedZone("CET", 3600)))
	task := &apiv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "t1"},
		Spec: apiv1.TaskSpec{
			Arn: "arn:aws:ecs:us-west-2:123456789012:task/prod/t1", Family: "web", Revision: 3, Cluster: "prod",
			DesiredStatus: apiv1.StatusRunning, NetworkMode: apiv1.NetworkModeBridge, CPU: "512", Memory: "1024",
			Containers: []apiv1.ContainerSpec{
				{Name: "app", Image: "app:1", CPU: 0, Memory: &mem, HealthCheck: &apiv1.HealthCheck{Command: []string{"CMD", "true"}}},
				{Name: "side", Image: "side:1", CPU: 128},
			},
		},
		Status: apiv1.TaskStatus{KnownStatus: apiv1.StatusRunning, Containers: []apiv1.ContainerStatus{
			{Name: "app", MetadataID: appEID, DockerID: dockerID, DockerName: "ecs-web-3-app-x", ImageID: "sha256:1",
				KnownStatus: apiv1.StatusRunning, CreatedAt: &created, StartedAt: &created,
				Ports:  []apiv1.PortBinding{{ContainerPort: 80, HostPort: 41000, Protocol: "tcp", BindIP: "0.0.0.0"}},
				Health: &apiv1.HealthStatus{Status: apiv1.HealthUnknown}},
			{Name: "side", MetadataID: sideEID, KnownStatus: apiv1.StatusPulled},
		}},
	}
	if err := f.store.Create(context.Background(), task); err != nil {
		f.t.Fatal(err)
	}
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (f *fixture) get(path string) (int, []byte) {
	f.t.Helper()
	resp, err := noRedirects.Get(f.url + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// keys decodes a JSON object's member names, sorted.
func keys(t *testing.T, body []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not a JSON object: %s", body)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestContainerMetadataHasTheECSAgentsFieldsAndOmissions(t *testing.T) {
	f := newFixture(t, Limit{})
	code, body := f.get("/v4/" + appEID)
	if code != http.StatusOK {
		t.Fatalf("v4 container: %d %s", code, body)
	}
	want := []string{"CreatedAt", "DesiredStatus", "DockerId", "DockerName", "Health", "Image", "ImageID", "KnownStatus", "Labels", "Limits", "Name", "Networks", "Ports", "StartedAt", "Type", "Volumes"}
	if got := keys(t, body); !slices.Equal(got, want) {
		t.Errorf("v4 container keys\n got %v\nwant %v", got, want)
	}
	var c ContainerResponse
	_ = json.Unmarshal(body, &c)
	if c.ID != dockerID || c.Limits != (ContainerLimits{CPU: 2, Memory: 256}) || c.Type != "NORMAL" ||
		len(c.Networks) != 1 || c.Networks[0].NetworkMode != "bridge" || c.Networks[0].IPv4Addresses[0] != "172.17.0.5" ||
		c.Health.Status != "" || c.Ports[0].HostIP != "0.0.0.0" || c.Volumes[0].DockerName != "data" {
		t.Errorf("v4 container = %+v", c)
	}
	if !strings.Contains(string(body), `"CreatedAt":"2026-11-02T09:00:00.123456Z"`) {
		t.Errorf("times are not UTC RFC 3339 with fractions: %s", body)
	}
	_, body = f.get("/v3/" + appEID)
	if strings.Contains(string(body), "HostIp") {
		t.Errorf("v3 container has v4's HostIp: %s", body)
	}
}

func TestTaskMetadataHasTheTaskAndItsContainers(t *testing.T) {
	f := newFixture(t, Limit{})
	code, body := f.get("/v4/" + sideEID + "/task")
	if code != http.StatusOK {
		t.Fatalf("v4 task: %d %s", code, body)
	}
	want := []string{"Cluster", "Containers", "DesiredStatus", "Family", "FaultInjectionEnabled", "KnownStatus", "LaunchType", "Limits", "Revision", "TaskARN"}
	if got := keys(t, body); !slices.Equal(got, want) {
		t.Errorf("v4 task keys\n got %v\nwant %v", got, want)
	}
	var task TaskResponse
	_ = json.Unmarshal(body, &task)
	if task.Revision != "3" || task.LaunchType != "EC2" || *task.Limits.CPU != 0.5 || *task.Limits.Memory != 1024 || len(task.Containers) != 2 {
		t.Errorf("v4 task = %+v", task)
	}
	_, body = f.get("/v3/" + sideEID + "/task")
	var v3task TaskResponseV3
	_ = json.Unmarshal(body, &v3task)
	if len(v3task.Containers) != 1 || strings.Contains(string(body), "LaunchType") || strings.Contains(string(body), "FaultInjectionEnabled") {
		t.Errorf("v3 task: %s; want only the created container and none of v4's additions", body)
	}
	_, body = f.get("/v4/" + appEID + "/taskWithTags")
	if !strings.Contains(string(body), `"ContainerInstanceTags":{"team":"infra"}`) {
		t.Errorf("taskWithTags without the instance's tags: %s", body)
	}
}

func TestUnknownIDsGetEachVersionsStatus(t *testing.T) {
	f := newFixture(t, Limit{})
	for path, want := range map[string]int{
		"/v4/nope": 404, "/v4/nope/task": 404, "/v4/nope/stats": 404, "/v4/nope/task/stats": 404, "/v4/": 404,
		"/v3/nope": 500, "/v3/nope/task": 500, "/v3/nope/stats": 400, "/v3/nope/task/stats": 400,
		"/v5/" + appEID: 404,
	} {
		code, body := f.get(path)
		if code != want {
			t.Errorf("GET %s: %d %s; want %d", path, code, body, want)
		}
	}
	if code, body := f.get("/v4/nope"); !strings.HasPrefix(string(body), `"V4 container metadata handler`) || code != 404 {
		t.Errorf("v4 unknown id body: %s; want a JSON string naming the handler", body)
	}
	for _, p := range []string{"/v3", "/v4", "/v2/credentials"} {
		if code, body := f.get(p); code != http.StatusNotFound || string(body) != "404 page not found\n" {
			t.Errorf("GET %s: %d %q; want the router's 404, not a redirect to the subtree", p, code, body)
		}
	}
	if code, _ := f.get("/v4//" + appEID); code != http.StatusMovedPermanently {
		t.Errorf("unclean path: %d; want 301", code)
	}
}

// TestRedirectKeepsARawHashInTheQuery sends a request line with a raw #,
// which a server reads as part of the query: the redirect must escape it,
// or the client takes the rest of the query for a fragment.
func TestRedirectKeepsARawHashInTheQuery(t *testing.T) {
	f := newFixture(t, Limit{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /v4//%s?a=1#b=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", appEID)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location")) // as a client reads it
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusMovedPermanently || loc.Path != "/v4/"+appEID || loc.RawQuery != "a=1%23b=2" || loc.Fragment != "" {
		t.Errorf("redirect: %d to %q; want 301 to /v4/%s?a=1%%23b=2", resp.StatusCode, resp.Header.Get("Location"), appEID)
	}
}

func TestStatsAreDockersDocumentWithV4sNetworkRate(t *testing.T) {
	f := newFixture(t, Limit{})
	if _, body := f.get("/v4/" + appEID + "/stats"); string(body) != "{}" {
		t.Errorf("v4 stats before a sample: %s; want {}", body)
	}
	if _, body := f.get("/v3/" + appEID + "/stats"); string(body) != "null" {
		t.Errorf("v3 stats before a sample: %s; want null", body)
	}
	f.stats[dockerID] = dockerstate.StatsSample{JSON: []byte(`{"read":"2026-11-02T10:00:01Z","cpu_stats":{},"networks":{"eth0":{"rx_bytes":10}}}`),
		RxBytesPerSec: 1500, TxBytesPerSec: 20.5, HasNetworkRate: true}
	_, body := f.get("/v4/" + appEID + "/stats")
	if want := `{"read":"2026-11-02T10:00:01Z","cpu_stats":{},"networks":{"eth0":{"rx_bytes":10}},"network_rate_stats":{"rx_bytes_per_sec":1500,"tx_bytes_per_sec":20.5}}`; string(body) != want {
		t.Errorf("v4 stats\n got %s\nwant %s", body, want)
	}
	if _, body := f.get("/v3/" + appEID + "/stats"); strings.Contains(string(body), "network_rate_stats") {
		t.Errorf("v3 stats carry v4's rate: %s", body)
	}
	_, body = f.get("/v4/" + sideEID + "/task/stats")
	var byID map[string]json.RawMessage
	if err := json.Unmarshal(body, &byID); err != nil || len(byID) != 1 || byID[dockerID] == nil {
		t.Errorf("task stats: %s; want the created container's, by Docker id", body)
	}
}

func TestCredentialsEndpointAnswersAsTheECSAgentDoes(t *testing.T) {
	f := newFixture(t, Limit{})
	ready, pending := credentials.NewID(), credentials.NewID()
	f.holder.Bind(ready, credentials.Key{TaskARN: "arn:t1", Role: apiv1.RoleTypeTask})
	f.holder.Bind(pending, credentials.Key{TaskARN: "arn:t2", Role: apiv1.RoleTypeTask})
	exp := time.Date(2026, 11, 2, 11, 0, 0, 0, time.FixedZone("CET", 3600))
	f.holder.Put("arn:t1", apiv1.RoleTypeTask, credentials.Credentials{RoleArn: "arn:aws:iam::1:role/app", AccessKeyID: "ASIA1", SecretAccessKey: "s", SessionToken: "tok", Expiration: exp}, apiv1.CredentialsFromSTS)
	for _, c := range []struct {
		path string
		code int
		body string
	}{
		{"/v2/credentials/" + ready, 200, `{"RoleArn":"arn:aws:iam::1:role/app","AccessKeyId":"ASIA1","SecretAccessKey":"s","Token":"tok","Expiration":"2026-11-02T10:00:00Z"}`},
		{"/v1/credentials?id=" + ready, 200, `{"RoleArn":"arn:aws:iam::1:role/app","AccessKeyId":"ASIA1","SecretAccessKey":"s","Token":"tok","Expiration":"2026-11-02T10:00:00Z"}`},
		{"/v2/credentials/" + pending, 503, `{"code":"CredentialsUninitialized","message":"CredentialsV2Request: Credentials uninitialized for ID","HTTPErrorCode":503}`},
		{"/v2/credentials/" + credentials.NewID(), 400, `{"code":"InvalidIdInRequest","message":"CredentialsV2Request: Credentials not found","HTTPErrorCode":400}`},
		{"/v2/credentials/", 400, `{"code":"NoIdInRequest","message":"CredentialsV2Request: No Credential ID in the request","HTTPErrorCode":400}`},
		{"/v1/credentials", 400, `{"code":"NoIdInRequest","message":"CredentialsV1Request: No Credential ID in the request","HTTPErrorCode":400}`},
		{"/v2/credentials", 404, "404 page not found\n"},
	} {
		code, body := f.get(c.path)
		if code != c.code || string(body) != c.body {
			t.Errorf("GET %s: %d %s\nwant %d %s", c.path, code, body, c.code, c.body)
		}
	}
}

func TestEachClientAndPathHasItsOwnRateLimit(t *testing.T) {
	f := newFixture(t, Limit{Rate: 1, Burst: 5})
	path := "/v4/" + sideEID // newFixture's calls used appEID's bucket
	for i := range 5 {
		if code, body := f.get(path); code != http.StatusOK {
			t.Fatalf("call %d within the burst: %d %s", i+1, code, body)
		}
	}
	resp, err := http.Get(f.url + path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || string(body) != "You have reached maximum request limit." {
		t.Fatalf("call past the burst: %d %s; want 429", resp.StatusCode, body)
	}
	h := resp.Header
	if h.Get("X-Rate-Limit-Limit") != "1.00" || h.Get("X-Rate-Limit-Duration") != "1" || !strings.HasPrefix(h.Get("X-Rate-Limit-Request-Remote-Addr"), "127.0.0.1:") {
		t.Errorf("rate limit headers: %v", h)
	}
	if code, _ := f.get(path + "/task"); code != http.StatusOK {
		t.Errorf("another path of the same client: %d; want its own bucket", code)
	}
}
