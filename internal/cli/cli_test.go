package cli

import (
	"bytes"
	"context"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/introspection"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

const (
	webTask   = "0123456789abcdef0123456789abcdef"
	batchTask = "0fedcba987654321fedcba9876543210"
	webArn    = "arn:aws:ecs:local:000000000000:task/default/" + webTask
	webID     = "aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111"
)

// nginxImage is the object name of the web task's image "nginx:1".
var nginxImage = apiv1.ImageObjectName("nginx:1")

func microAgo(d time.Duration) *metav1.MicroTime {
	t := metav1.NewMicroTime(time.Now().Add(-d))
	return &t
}

// fill stores a running web task (one healthy container with a dynamic
// port, one that exited), a stopped batch task, an image, a port and events.
func fill(t *testing.T, s store.Store) {
	t.Helper()
	exit0, exit137 := int32(0), int32(137)
	objs := []store.Object{
		&apiv1.Task{
			ObjectMeta: metav1.ObjectMeta{Name: webTask},
			Spec: apiv1.TaskSpec{
				Arn: webArn, Family: "web", Revision: 3, DesiredStatus: apiv1.StatusRunning,
				Source: apiv1.SourceStatic, SourceRef: "/etc/ecs/tasks.d/web.json",
				Containers: []apiv1.ContainerSpec{
					{Name: "web", Image: "nginx:1", Essential: true,
						PortMappings: []apiv1.PortMapping{{ContainerPort: 80}},
						Environment:  []apiv1.KeyValue{{Name: "API_TOKEN", Value: "hunter2"}},
						HealthCheck:  &apiv1.HealthCheck{Command: []string{"CMD", "/check"}}},
					{Name: "init", Image: "busybox", DependsOn: []apiv1.ContainerDependency{}},
				},
			},
			Status: apiv1.TaskStatus{
				KnownStatus: apiv1.StatusRunning, StartedAt: microAgo(time.Hour),
				Containers: []apiv1.ContainerStatus{
					{Name: "web", DockerID: webID, DockerName: "ecs-web-3-web-1a2b", KnownStatus: apiv1.StatusRunning,
						Ports:  []apiv1.PortBinding{{ContainerPort: 80, HostPort: 32768, Protocol: "tcp"}},
						Health: &apiv1.HealthStatus{Status: apiv1.HealthHealthy, Since: microAgo(time.Minute)}},
					{Name: "init", DockerID: "cccccccccccc99", KnownStatus: apiv1.StatusStopped, ExitCode: &exit0, Reason: "completed"},
				},
			},
		},
		&apiv1.Task{
			ObjectMeta: metav1.ObjectMeta{Name: batchTask},
			Spec: apiv1.TaskSpec{Family: "batch", Revision: 1, DesiredStatus: apiv1.StatusStopped,
				Containers: []apiv1.ContainerSpec{{Name: "job", Image: "busybox", Essential: true}}},
			Status: apiv1.TaskStatus{KnownStatus: apiv1.StatusStopped, StoppedReason: "Essential container in task exited",
				Containers: []apiv1.ContainerStatus{{Name: "job", KnownStatus: apiv1.StatusStopped, ExitCode: &exit137}}},
		},
		&apiv1.Image{ObjectMeta: metav1.ObjectMeta{Name: "nginx-1-abcd"}, Spec: apiv1.ImageSpec{Ref: "nginx:1"},
			Status: apiv1.ImageStatus{Phase: apiv1.ImagePresent, ImageID: "sha256:0123456789abcdef", Size: 187_000_000,
				LastUsedAt: microAgo(time.Minute), Users: []string{webTask}}},
		&apiv1.PortAllocation{ObjectMeta: metav1.ObjectMeta{Name: apiv1.PortAllocationName("tcp", 32768)},
			Spec: apiv1.PortAllocationSpec{HostPort: 32768, Protocol: "tcp", Task: webTask, Container: "web", ContainerPort: 80, Dynamic: true}},
		&apiv1.Event{ObjectMeta: metav1.ObjectMeta{Name: webTask + ".1"}, InvolvedKind: "Task", InvolvedName: webTask,
			Type: apiv1.EventNormal, Reason: "Started", Message: "started container web", Count: 1,
			FirstTimestamp: *microAgo(time.Hour), LastTimestamp: *microAgo(time.Hour)},
		&apiv1.Event{ObjectMeta: metav1.ObjectMeta{Name: webTask + ".2"}, InvolvedKind: "Task", InvolvedName: webTask,
			Type: apiv1.EventNormal, Reason: "Health", Message: "container web is HEALTHY", Count: 3,
			FirstTimestamp: *microAgo(30 * time.Minute), LastTimestamp: *microAgo(time.Minute)},
		&apiv1.Event{ObjectMeta: metav1.ObjectMeta{Name: batchTask + ".1"}, InvolvedKind: "Task", InvolvedName: batchTask,
			Type: apiv1.EventWarning, Reason: "Stopping", Message: "batch only"},
		// The web task's image was pulled before the task was created (an
		// earlier task's pull) and again for it (timestamps after the
		// store sets the task's creation time).
		&apiv1.Event{ObjectMeta: metav1.ObjectMeta{Name: nginxImage + ".1"}, InvolvedKind: "Image", InvolvedName: nginxImage,
			Type: apiv1.EventNormal, Reason: "Pulled", Message: "pulled for an earlier task", Count: 1,
			FirstTimestamp: *microAgo(time.Hour), LastTimestamp: *microAgo(time.Hour)},
		&apiv1.Event{ObjectMeta: metav1.ObjectMeta{Name: nginxImage + ".2"}, InvolvedKind: "Image", InvolvedName: nginxImage,
			Type: apiv1.EventNormal, Reason: "Pulled", Message: "pulled for the web task", Count: 1,
			FirstTimestamp: *microAgo(-time.Minute), LastTimestamp: *microAgo(-time.Minute)},
	}
	for _, o := range objs {
		if err := s.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

// filledStore opens a filled store file in a new data directory.
func filledStore(t *testing.T) (string, *store.Bolt) {
	t.Helper()
	dir := t.TempDir()
	s, err := store.Open(filepath.Join(dir, "agent.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s)
	return dir, s
}

// stoppedAgent leaves a filled store file in a data directory, closed.
func stoppedAgent(t *testing.T) string {
	t.Helper()
	dir, s := filledStore(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runningAgent serves the introspection API over an open, filled store,
// which holds the file's lock as the agent does. It returns the data
// directory, the port and the store.
func runningAgent(t *testing.T) (string, int, *store.Bolt) {
	t.Helper()
	dir, s := filledStore(t)
	srv := introspection.New(introspection.Options{Store: s, Version: "ecs-agent test"})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.CloseWatches(); ts.Close(); _ = s.Close() })
	u, _ := url.Parse(ts.URL)
	port, _ := strconv.Atoi(u.Port())
	return dir, port, s
}

// silentPort is a local port nothing listens on.
func silentPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// syncBuffer is a bytes.Buffer safe to read while a command writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// command builds `ecs-agent` with the debug verbs, isolated from the
// host's environment and /etc/ecs/ecs.config.
func command(t *testing.T, dir string, port int, args ...string) (*cobra.Command, *syncBuffer, *syncBuffer) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "ecs.config")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	root := &cobra.Command{Use: "ecs-agent", SilenceUsage: true, SilenceErrors: true}
	addCommands(root, func() []string { return nil })
	var out, errOut syncBuffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append(args, "--config", cfg, "--data-dir", dir, "--introspection-port", strconv.Itoa(port)))
	return root, &out, &errOut
}

func run(t *testing.T, dir string, port int, args ...string) (string, string, error) {
	t.Helper()
	root, out, errOut := command(t, dir, port, args...)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// checkOutput fails t unless out holds every string of want and none of
// notWant.
func checkOutput(t *testing.T, out string, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	for _, w := range notWant {
		if strings.Contains(out, w) {
			t.Errorf("output has %q:\n%s", w, out)
		}
	}
}
