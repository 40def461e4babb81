package introspection

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

const (
	webID    = "aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111"
	sideID   = "aaaaaaaaaaaa2222222222222222222222222222222222222222222222222222"
	otherID  = "abbbbbbbbbbb3333333333333333333333333333333333333333333333333333"
	webArn   = "arn:aws:ecs:local:000000000000:task/default/0123456789abcdef0123456789abcdef"
	otherArn = "arn:aws:ecs:local:000000000000:task/default/fedcba9876543210fedcba9876543210"
)

func openStore(t testing.TB) *store.Bolt {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "agent.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func create(t testing.TB, s store.Store, obj store.Object) {
	t.Helper()
	if err := s.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

// fixture stores a registered instance, a running two-container task whose
// container ids share a 12-character prefix, and a stopped task.
func fixture(t testing.TB) *store.Bolt {
	s := openStore(t)
	create(t, s, &apiv1.ContainerInstance{
		ObjectMeta: metav1.ObjectMeta{Name: apiv1.ContainerInstanceName},
		Spec:       apiv1.ContainerInstanceSpec{Cluster: "default"},
		Status:     apiv1.ContainerInstanceStatus{Arn: "arn:aws:ecs:local:000000000000:container-instance/default/abc"},
	})
	create(t, s, &apiv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "0123456789abcdef0123456789abcdef"},
		Spec: apiv1.TaskSpec{
			Arn: webArn, Family: "web", Revision: 3, DesiredStatus: apiv1.StatusRunning,
			Containers: []apiv1.ContainerSpec{
				{Name: "web", Image: "nginx:1", PortMappings: []apiv1.PortMapping{{ContainerPort: 80}}},
				{Name: "side", Image: "busybox"},
			},
		},
		Status: apiv1.TaskStatus{
			KnownStatus: apiv1.StatusRunning,
			Containers: []apiv1.ContainerStatus{
				{Name: "web", DockerID: webID, DockerName: "ecs-web-3-web-1a2b", ImageID: "sha256:abc",
					KnownStatus: apiv1.StatusRunning,
					Ports:       []apiv1.PortBinding{{ContainerPort: 80, HostPort: 32768, Protocol: "tcp", BindIP: "0.0.0.0"}}},
				{Name: "side", DockerID: sideID, KnownStatus: apiv1.StatusRunning},
			},
		},
	})
	create(t, s, &apiv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "fedcba9876543210fedcba9876543210"},
		Spec: apiv1.TaskSpec{
			Arn: otherArn, Family: "batch", Revision: 1, DesiredStatus: apiv1.StatusRunning,
			Containers: []apiv1.ContainerSpec{{Name: "job", Image: "busybox"}},
		},
		Status: apiv1.TaskStatus{
			KnownStatus: apiv1.StatusStopped,
			Containers:  []apiv1.ContainerStatus{{Name: "job", DockerID: otherID, KnownStatus: apiv1.StatusStopped}},
		},
	})
	return s
}

func serve(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	srv := New(opts)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.CloseWatches(); ts.Close() })
	return ts
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func TestMetadataShowsClusterInstanceArnAndVersion(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(t testing.TB) *store.Bolt
		want  string
	}{
		{"registered", fixture, `{"Cluster":"default","ContainerInstanceArn":"arn:aws:ecs:local:000000000000:container-instance/default/abc","Version":"Amazon ECS Agent - v1.2.3 (ecs-agent 1.2.3)"}`},
		{"not registered yet", openStore, `{"Cluster":"","ContainerInstanceArn":null,"Version":"Amazon ECS Agent - v1.2.3 (ecs-agent 1.2.3)"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := serve(t, Options{Store: tc.store(t), Version: "ecs-agent 1.2.3"})
			code, body := get(t, ts.URL+MetadataPath)
			if code != http.StatusOK || strings.TrimSpace(string(body)) != tc.want {
				t.Errorf("got %d %s\nwant 200 %s", code, body, tc.want)
			}
		})
	}
}

func TestTasksAnswersQueriesAsTheECSAgent(t *testing.T) {
	ts := serve(t, Options{Store: fixture(t)})
	for _, tc := range []struct {
		name     string
		query    string
		wantCode int
		wantArn  string // "" for a list or an empty body
	}{
		{"every task", "", http.StatusOK, ""},
		{"full docker id", "?dockerid=" + otherID, http.StatusOK, otherArn},
		{"12-character prefix shared by one task's containers", "?dockerid=aaaaaaaaaaaa", http.StatusOK, webArn},
		{"short prefix", "?dockerid=abb", http.StatusOK, otherArn},
		{"short prefix of two tasks", "?dockerid=a", http.StatusBadRequest, ""},
		{"long id is not a prefix", "?dockerid=" + otherID[:20], http.StatusNotFound, ""},
		{"unknown docker id", "?dockerid=cccccccccccc", http.StatusNotFound, ""},
		{"task arn", "?taskarn=" + webArn, http.StatusOK, webArn},
		{"unknown task arn", "?taskarn=arn:aws:ecs:local:0:task/x/y", http.StatusNotFound, ""},
		{"both", "?taskarn=" + webArn + "&dockerid=" + webID, http.StatusBadRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, ts.URL+TasksPath+tc.query)
			if code != tc.wantCode {
				t.Fatalf("status %d, want %d (body %s)", code, tc.wantCode, body)
			}
			if tc.query == "" {
				var list TasksResponse
				if err := json.Unmarshal(body, &list); err != nil || len(list.Tasks) != 2 {
					t.Fatalf("list = %s (%v)", body, err)
				}
				return
			}
			if tc.wantCode == http.StatusBadRequest {
				return
			}
			var task TaskResponse
			if err := json.Unmarshal(body, &task); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if task.Arn != tc.wantArn {
				t.Errorf("Arn = %q, want %q", task.Arn, tc.wantArn)
			}
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	var notReady error = errors.New("docker state not synced yet")
	ts := serve(t, Options{Store: openStore(t), Ready: func() error { return notReady }})

	if code, _ := get(t, ts.URL+HealthzPath); code != http.StatusOK {
		t.Errorf("healthz = %d", code)
	}
	code, body := get(t, ts.URL+ReadyzPath)
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "docker state not synced yet") {
		t.Errorf("readyz while not ready = %d %q", code, body)
	}
	notReady = nil
	if code, _ := get(t, ts.URL+ReadyzPath); code != http.StatusOK {
		t.Errorf("readyz when ready = %d", code)
	}
}

func TestMetricsServeAgentAndRequestCounters(t *testing.T) {
	ts := serve(t, Options{Store: fixture(t)})
	get(t, ts.URL+TasksPath)
	code, body := get(t, ts.URL+MetricsPath)
	if code != http.StatusOK {
		t.Fatalf("metrics = %d: %s", code, body)
	}
	for _, want := range []string{
		`ecs_agent_tasks{desired_status="RUNNING",known_status="RUNNING"} 1`,
		`ecs_agent_tasks{desired_status="RUNNING",known_status="STOPPED"} 1`,
		`ecs_agent_introspection_requests_total{code="200",handler="tasks"} 1`,
		`ecs_agent_store_scrape_error 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func httptestServer(t *testing.T, srv *Server) string {
	t.Helper()
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.CloseWatches(); ts.Close() })
	return ts.URL
}
