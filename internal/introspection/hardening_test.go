package introspection

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

func secretTask(name, secret string) *apiv1.Task {
	return &apiv1.Task{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: apiv1.TaskSpec{
		Arn: "arn:aws:ecs:local:000000000000:task/default/" + name, Family: "app", DesiredStatus: apiv1.StatusRunning,
		Containers: []apiv1.ContainerSpec{{
			Name: "app", Image: "busybox",
			Environment:      []apiv1.KeyValue{{Name: "DB_PASSWORD", Value: secret}},
			DockerLabels:     map[string]string{"token": secret},
			LogConfiguration: &apiv1.LogConfiguration{LogDriver: "splunk", Options: map[string]string{"splunk-token": secret}},
		}},
	}}
}

// TestAgentAPIShowsNamesNotValues: environment values, Docker label values
// and log options reach no local user or host-network task through the
// list, the get or the watch.
func TestAgentAPIShowsNamesNotValues(t *testing.T) {
	s := fixture(t)
	create(t, s, secretTask("secret", "hunter2-in-list"))
	ts := serve(t, Options{Store: s})
	for _, path := range []string{"tasks", "tasks/secret"} {
		_, body := get(t, ts.URL+AgentAPIPrefix+path)
		if strings.Contains(string(body), "hunter2") || !strings.Contains(string(body), "DB_PASSWORD") || !strings.Contains(string(body), apiv1.HiddenValue) {
			t.Errorf("%s: %s\nwant DB_PASSWORD shown with its value hidden", path, body)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := watchLines(t, ctx, ts.URL+AgentAPIPrefix+"tasks?watch=true")
	for range 3 { // the two fixture tasks and "secret", as ADDED
		next(t, lines)
	}
	create(t, s, secretTask("later", "hunter2-in-watch"))
	_, task := next(t, lines)
	if c := task.Spec.Containers[0]; c.Environment[0].Value != apiv1.HiddenValue || c.DockerLabels["token"] != apiv1.HiddenValue || c.LogConfiguration.Options["splunk-token"] != apiv1.HiddenValue {
		t.Errorf("watched task shows %+v, want values hidden", c)
	}
	var stored apiv1.Task
	if err := s.Get(ctx, "later", &stored); err != nil || stored.Spec.Containers[0].Environment[0].Value != "hunter2-in-watch" {
		t.Fatalf("the store lost the real value (the watch must hide a copy): %v %+v", err, stored.Spec.Containers[0].Environment)
	}
}

func TestWatchStreamsAreCapped(t *testing.T) {
	s := fixture(t)
	ts := serve(t, Options{Store: s})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range maxWatches {
		watchLines(t, ctx, ts.URL+AgentAPIPrefix+"events?watch=true")
	}
	code, body := get(t, ts.URL+AgentAPIPrefix+"events?watch=true")
	if code != http.StatusTooManyRequests || !strings.Contains(string(body), fmt.Sprint(maxWatches)) {
		t.Fatalf("watch beyond the cap: %d %s, want 429 naming the cap", code, body)
	}
}

// TestWatchClientThatStopsReadingIsDropped: a client that opens a watch and
// never reads must not hold the stream (and its store watch) forever.
func TestWatchClientThatStopsReadingIsDropped(t *testing.T) {
	s := fixture(t)
	srv := New(Options{Store: s, StreamWriteTimeout: 200 * time.Millisecond})
	url := httptestServer(t, srv)
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetReadBuffer(4096)
	}
	fmt.Fprintf(conn, "GET %stasks?watch=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", AgentAPIPrefix)
	testwait.For(t, "the watch open", 10*time.Second, 10*time.Millisecond, func() (bool, string) {
		return srv.openWatches.Load() == 1, fmt.Sprintf("%d open", srv.openWatches.Load())
	})
	big := strings.Repeat("x", 256<<10)
	for i := range 100 { // 25 MiB of changes the client never reads
		task := secretTask(fmt.Sprintf("t%03d", i), "v")
		task.Spec.Containers[0].Command = []string{big}
		create(t, s, task)
		if srv.openWatches.Load() == 0 {
			break
		}
	}
	testwait.For(t, "the stalled watch dropped", 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		return srv.openWatches.Load() == 0, fmt.Sprintf("%d open", srv.openWatches.Load())
	})
}
