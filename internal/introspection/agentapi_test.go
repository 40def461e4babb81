package introspection

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

func TestAgentAPIListsAndGetsObjectsAsAPIv1JSON(t *testing.T) {
	s := fixture(t)
	create(t, s, &apiv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e1"}, InvolvedKind: "Task", InvolvedName: "0123456789abcdef0123456789abcdef", Reason: "Started"})
	create(t, s, &apiv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e2"}, InvolvedKind: "Task", InvolvedName: "other", Reason: "Started"})
	create(t, s, &apiv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e3"}, InvolvedKind: "Image", InvolvedName: "busybox-1234", Reason: "Pulled"})
	ts := serve(t, Options{Store: s})

	for _, tc := range []struct {
		name      string
		path      string
		wantCode  int
		wantKind  string
		wantItems int // -1: not a list
	}{
		{"task list", "tasks", http.StatusOK, "TaskList", 2},
		{"list by kind name", "Task", http.StatusOK, "TaskList", 2},
		{"empty list", "images", http.StatusOK, "ImageList", 0},
		{"events of one object", "events?involvedKind=Task&involvedName=other", http.StatusOK, "EventList", 1},
		{"events of a kind", "events?involvedKind=Task", http.StatusOK, "EventList", 2},
		{"events of two objects", "events?involvedName=other&involvedName=busybox-1234", http.StatusOK, "EventList", 2},
		{"events of two objects, one kind", "events?involvedKind=Image&involvedName=other&involvedName=busybox-1234", http.StatusOK, "EventList", 1},
		{"one task", "tasks/0123456789abcdef0123456789abcdef", http.StatusOK, "Task", -1},
		{"the container instance", "containerinstances/self", http.StatusOK, "ContainerInstance", -1},
		{"missing task", "tasks/nope", http.StatusNotFound, "", -1},
		{"unknown resource", "widgets", http.StatusNotFound, "", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, ts.URL+AgentAPIPrefix+tc.path)
			if code != tc.wantCode {
				t.Fatalf("status %d, want %d: %s", code, tc.wantCode, body)
			}
			var doc struct {
				APIVersion string            `json:"apiVersion"`
				Kind       string            `json:"kind"`
				Items      []json.RawMessage `json:"items"`
				Message    string            `json:"message"`
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if tc.wantCode != http.StatusOK {
				if doc.Message == "" {
					t.Errorf("error without a message: %s", body)
				}
				return
			}
			if doc.APIVersion != "agent.ecs.local/v1" || doc.Kind != tc.wantKind {
				t.Errorf("apiVersion/kind = %q/%q, want agent.ecs.local/v1/%s", doc.APIVersion, doc.Kind, tc.wantKind)
			}
			if tc.wantItems >= 0 && len(doc.Items) != tc.wantItems {
				t.Errorf("%d items, want %d", len(doc.Items), tc.wantItems)
			}
		})
	}
}

// watchLines opens a watch stream and returns its decoded lines.
func watchLines(t *testing.T, ctx context.Context, url string) <-chan WatchEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("watch status %d", resp.StatusCode)
	}
	out := make(chan WatchEvent)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev WatchEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("watch line %s: %v", sc.Bytes(), err)
				return
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func next(t *testing.T, lines <-chan WatchEvent) (string, apiv1.Task) {
	t.Helper()
	select {
	case ev, ok := <-lines:
		if !ok {
			t.Fatal("watch stream ended")
		}
		var task apiv1.Task
		if err := json.Unmarshal(ev.Object, &task); err != nil {
			t.Fatal(err)
		}
		return ev.Type, task
	case <-time.After(5 * time.Second):
		t.Fatal("no watch event within 5s")
	}
	panic("unreachable")
}

func TestWatchStreamsCurrentObjectsThenChanges(t *testing.T) {
	s := fixture(t)
	ts := serve(t, Options{Store: s})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := watchLines(t, ctx, ts.URL+AgentAPIPrefix+"tasks?watch=true")

	seen := map[string]bool{}
	for range 2 {
		typ, task := next(t, lines)
		if typ != string(store.Added) {
			t.Errorf("initial event type %s, want ADDED", typ)
		}
		seen[task.Name] = true
	}
	if len(seen) != 2 {
		t.Fatalf("initial events named %v, want both tasks", seen)
	}

	task := &apiv1.Task{ObjectMeta: metav1.ObjectMeta{Name: "new"}, Spec: apiv1.TaskSpec{Family: "f"}}
	create(t, s, task)
	if typ, got := next(t, lines); typ != string(store.Added) || got.Name != "new" {
		t.Errorf("after create: %s %s", typ, got.Name)
	}
	task.Spec.Family = "g"
	if err := s.Update(ctx, task); err != nil {
		t.Fatal(err)
	}
	if typ, got := next(t, lines); typ != string(store.Modified) || got.Spec.Family != "g" {
		t.Errorf("after update: %s %+v", typ, got.Spec)
	}
	if err := s.Delete(ctx, task); err != nil {
		t.Fatal(err)
	}
	if typ, got := next(t, lines); typ != string(store.Deleted) || got.Name != "new" {
		t.Errorf("after delete: %s %s", typ, got.Name)
	}
	// Other kinds do not show up in a task watch.
	create(t, s, &apiv1.Image{ObjectMeta: metav1.ObjectMeta{Name: "img"}})
	create(t, s, &apiv1.Task{ObjectMeta: metav1.ObjectMeta{Name: "last"}})
	if _, got := next(t, lines); got.Name != "last" {
		t.Errorf("next event is about %q, want the task \"last\"", got.Name)
	}
}

func TestCloseWatchesEndsStreams(t *testing.T) {
	s := fixture(t)
	srv := New(Options{Store: s})
	ts := httptestServer(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := watchLines(t, ctx, ts+AgentAPIPrefix+"images?watch=true")
	create(t, s, &apiv1.Image{ObjectMeta: metav1.ObjectMeta{Name: "img"}})
	select {
	case <-lines:
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	srv.CloseWatches()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("stream still open 5s after CloseWatches")
		}
	}
}

// A credentials id lets whoever knows it read the role's keys, and the
// agent API answers any local process: list, get and watch show only its
// start.
func TestAgentAPIShowsCredentialsIDsCutShort(t *testing.T) {
	s := fixture(t)
	const id = "8a6f1c2e-9b7d-4e3f-a1b2-c3d4e5f60718"
	create(t, s, &apiv1.Credentials{ObjectMeta: metav1.ObjectMeta{Name: "t1-task-role"},
		Spec: apiv1.CredentialsSpec{ID: id, Task: "t1", Role: apiv1.RoleTypeTask, RoleArn: "arn:aws:iam::1:role/app"}})
	ts := serve(t, Options{Store: s})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lines := watchLines(t, ctx, ts.URL+AgentAPIPrefix+"credentials?watch=true")
	var watched string
	select {
	case ev := <-lines:
		watched = string(ev.Object)
	case <-ctx.Done():
		t.Fatal("no watch event")
	}
	_, list := get(t, ts.URL+AgentAPIPrefix+"credentials")
	_, one := get(t, ts.URL+AgentAPIPrefix+"credentials/t1-task-role")
	for what, body := range map[string]string{"list": string(list), "get": string(one), "watch": watched} {
		if strings.Contains(body, id[apiv1.CredentialsIDShown:]) || !strings.Contains(body, id[:apiv1.CredentialsIDShown]) {
			t.Errorf("%s shows %s; want only the id's first 8 characters", what, body)
		}
	}
	var stored apiv1.Credentials
	if err := s.Get(ctx, "t1-task-role", &stored); err != nil || stored.Spec.ID != id {
		t.Fatalf("the store's copy was redacted too: %q, %v", stored.Spec.ID, err)
	}
}
