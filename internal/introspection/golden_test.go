package introspection

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// The golden files in testdata are written by hand from the ECS agent's
// shapes (TMDS facts §6: the introspection API of ecs-agent v1.105.1,
// ecs-agent/introspection/v1/response.go and agent/handlers/v1), not
// captured from this agent: field names and case, which fields are always
// present and which are left out when empty, desired status hidden when it
// contradicts a final known status, statuses as the control plane names
// them, UTC RFC 3339 times with nanoseconds, no HostIp and no Networks
// outside awsvpc, Volumes as Docker mounts, RestartCount only with a
// restart policy, a zero task as the error body. Comparison is of the
// decoded JSON, so key order does not matter but every name, value and
// omission does.

func at(s string) *metav1.MicroTime {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	// A zone other than UTC: the answer must still be in UTC.
	return ptr.To(metav1.NewMicroTime(t.In(time.FixedZone("CET", 3600))))
}

// goldenStore holds the tasks testdata/v1_tasks.golden.json describes.
func goldenStore(t *testing.T, registered bool) store.Store {
	s := openStore(t)
	ci := &apiv1.ContainerInstance{ObjectMeta: metav1.ObjectMeta{Name: apiv1.ContainerInstanceName},
		Spec: apiv1.ContainerInstanceSpec{Cluster: "prod"}}
	if registered {
		ci.Status.Arn = "arn:aws:ecs:us-west-2:123456789012:container-instance/prod/5d4c3b2a19087f6e5d4c3b2a19087f6e"
	}
	create(t, s, ci)
	const arn = "arn:aws:ecs:us-west-2:123456789012:task/prod/"
	restart := &apiv1.RestartPolicy{Enabled: true}
	create(t, s, &apiv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "11111111111111111111111111111111"},
		Spec: apiv1.TaskSpec{Arn: arn + "11111111111111111111111111111111", Family: "web", Revision: 3,
			DesiredStatus: apiv1.StatusRunning, NetworkMode: apiv1.NetworkModeBridge,
			Containers: []apiv1.ContainerSpec{
				{Name: "web", Image: "nginx:1.27", RestartPolicy: restart, PortMappings: []apiv1.PortMapping{{ContainerPort: 80, Protocol: "tcp"}}},
				{Name: "init", Image: "busybox:1.36", PortMappings: []apiv1.PortMapping{{ContainerPort: 53, Protocol: "udp"}}},
			}},
		Status: apiv1.TaskStatus{KnownStatus: apiv1.StatusRunning, Containers: []apiv1.ContainerStatus{
			{Name: "web", DockerID: "aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111",
				DockerName: "ecs-web-3-web-d2c8a1f0e4b6", ImageID: "sha256:1234abcd", KnownStatus: apiv1.StatusRunning,
				CreatedAt: at("2026-11-27T10:00:00.123456Z"), StartedAt: at("2026-11-27T10:00:01.5Z"), RestartCount: 2,
				Ports: []apiv1.PortBinding{{ContainerPort: 80, HostPort: 32768, Protocol: "tcp", BindIP: "0.0.0.0"}},
				Volumes: []apiv1.VolumeMount{
					{DockerName: "ecs-11111111111111111111111111111111-data", Source: "/var/lib/docker/volumes/ecs-11111111111111111111111111111111-data/_data", Destination: "/data"},
					{Source: "/var/log/web", Destination: "/logs"},
				}},
			{Name: "init", KnownStatus: apiv1.StatusPulled},
		}},
	})
	for _, tc := range []struct {
		id               string
		desired, known   apiv1.TaskStatusName
		docker, name     string
		created, started *metav1.MicroTime
		restartPolicy    bool
	}{
		{"22222222222222222222222222222222", apiv1.StatusRunning, apiv1.StatusCreated,
			"bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222", "ecs-batch-7-job-9e8d7c6b5a4f", at("2026-11-27T10:05:00Z"), nil, true},
		{"33333333333333333333333333333333", apiv1.StatusRunning, apiv1.StatusStopped,
			"cccccccccccc3333333333333333333333333333333333333333333333333333", "ecs-batch-7-job-0a1b2c3d4e5f", at("2026-11-27T09:00:00Z"), at("2026-11-27T09:00:01Z"), false},
		{"44444444444444444444444444444444", apiv1.StatusStopped, apiv1.StatusStopped,
			"dddddddddddd4444444444444444444444444444444444444444444444444444", "ecs-batch-7-job-6f5e4d3c2b1a", nil, nil, false},
	} {
		containers := []apiv1.ContainerSpec{{Name: "job", Image: "busybox:1.36"}}
		if tc.restartPolicy {
			containers[0].RestartPolicy = restart
		}
		create(t, s, &apiv1.Task{
			ObjectMeta: metav1.ObjectMeta{Name: tc.id},
			Spec:       apiv1.TaskSpec{Arn: arn + tc.id, Family: "batch", Revision: 7, DesiredStatus: tc.desired, Containers: containers},
			Status: apiv1.TaskStatus{KnownStatus: tc.known, Containers: []apiv1.ContainerStatus{{
				Name: "job", DockerID: tc.docker, DockerName: tc.name, ImageID: "sha256:5678ef", KnownStatus: tc.known,
				CreatedAt: tc.created, StartedAt: tc.started,
			}}},
		})
	}
	return s
}

// golden reads one golden file: the whole of it, or the entry under key.
func golden(t *testing.T, file, key string) any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if key != "" {
		return doc.(map[string]any)[key]
	}
	return doc
}

func decode(t *testing.T, body []byte) any {
	t.Helper()
	var got any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return got
}

func TestV1TasksMatchesTheECSAgentsShapes(t *testing.T) {
	ts := serve(t, Options{Store: goldenStore(t, true)})
	want := golden(t, "v1_tasks.golden.json", "").(map[string]any)
	code, body := get(t, ts.URL+TasksPath)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d", TasksPath, code)
	}
	got := decode(t, body).(map[string]any)
	wantTasks, gotTasks := want["Tasks"].([]any), got["Tasks"].([]any)
	if len(gotTasks) != len(wantTasks) {
		t.Fatalf("%d tasks, want %d: %s", len(gotTasks), len(wantTasks), body)
	}
	// The ECS agent lists tasks in no particular order: match by Arn.
	byArn := map[any]any{}
	for _, task := range gotTasks {
		byArn[task.(map[string]any)["Arn"]] = task
	}
	for _, w := range wantTasks {
		arn := w.(map[string]any)["Arn"]
		if g := byArn[arn]; !reflect.DeepEqual(g, w) {
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			t.Errorf("task %s:\n got  %s\n want %s", arn, gb, wb)
		}
		// One task by ARN is the same object.
		_, one := get(t, ts.URL+TasksPath+"?taskarn="+arn.(string))
		if g := decode(t, one); !reflect.DeepEqual(g, w) {
			t.Errorf("?taskarn=%s:\n got  %s", arn, one)
		}
	}
}

func TestV1ErrorsAndMetadataMatchTheECSAgentsShapes(t *testing.T) {
	ts := serve(t, Options{Store: goldenStore(t, true), Version: "ecs-agent 1.2.3"})
	for _, tc := range []struct {
		name, path string
		code       int
		file, key  string
	}{
		{"unknown task", TasksPath + "?taskarn=arn:aws:ecs:us-west-2:123456789012:task/prod/nope", http.StatusNotFound, "v1_errors.golden.json", "not found"},
		{"unknown docker id", TasksPath + "?dockerid=eeeeeeeeeeee", http.StatusNotFound, "v1_errors.golden.json", "not found"},
		{"both queries", TasksPath + "?taskarn=x&dockerid=y", http.StatusBadRequest, "v1_errors.golden.json", "bad request"},
		{"registered instance", MetadataPath, http.StatusOK, "v1_metadata.golden.json", "registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, ts.URL+tc.path)
			if code != tc.code {
				t.Errorf("status %d, want %d", code, tc.code)
			}
			if got, want := decode(t, body), golden(t, tc.file, tc.key); !reflect.DeepEqual(got, want) {
				t.Errorf("got  %s\nwant %v", body, want)
			}
		})
	}
	t.Run("root", func(t *testing.T) {
		// The ECS agent's root lists /license too, which this agent
		// does not serve.
		_, body := get(t, ts.URL+"/")
		want := map[string]any{"AvailableCommands": []any{"/v1/metadata", "/v1/tasks"}}
		if got := decode(t, body); !reflect.DeepEqual(got, want) {
			t.Errorf("got %s, want %v", body, want)
		}
	})
	t.Run("instance not registered yet", func(t *testing.T) {
		ts := serve(t, Options{Store: goldenStore(t, false), Version: "ecs-agent 1.2.3"})
		_, body := get(t, ts.URL+MetadataPath)
		if got, want := decode(t, body), golden(t, "v1_metadata.golden.json", "not registered"); !reflect.DeepEqual(got, want) {
			t.Errorf("got  %s\nwant %v", body, want)
		}
	})
}
