package dockerstate_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/moby/moby/client"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

const testImage = "ecs-agent-test/app:latest"

// noDaemon says why the real-daemon tests skip; "" when they run.
var noDaemon string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		noDaemon = "-short runs without Docker"
	} else if err := pingDaemon(); err != nil {
		noDaemon = err.Error()
	} else if out, err := exec.Command("../../hack/build-test-images.sh").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the test image: %v\n%s", err, out)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func pingDaemon() error {
	c, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	return err
}

// daemonSocket is the real daemon's socket, for the proxy to forward to.
func daemonSocket() string {
	if h, ok := strings.CutPrefix(os.Getenv("DOCKER_HOST"), "unix://"); ok {
		return h
	}
	return "/var/run/docker.sock"
}

// fixture is one integration test's world: its own cluster label (every
// container it makes carries it and is removed at the end), one task ARN,
// and a Docker client with a recorder subscribed.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	cluster string
	taskARN string
	d       *dockerstate.Docker
	changes *recorder
}

func newFixture(t *testing.T, opts dockerstate.Options) *fixture {
	t.Helper()
	if noDaemon != "" {
		t.Skipf("real-daemon test skipped: %s", noDaemon)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	id := randomHex(16)
	f := &fixture{
		t:       t,
		ctx:     ctx,
		cluster: "dockerstate-test-" + id[:8],
		taskARN: "arn:aws:ecs:local:000000000000:task/dockerstate-test/" + id,
		changes: &recorder{signal: make(chan struct{}, 1)},
	}
	t.Cleanup(f.removeContainers)
	opts.Log = testr.New(t)
	d, err := dockerstate.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.d = d
	t.Cleanup(f.d.Subscribe(f.changes.add))
	return f
}

// run starts the cache; it is stopped, and must return nil, at cleanup.
func (f *fixture) run() {
	ctx, cancel := context.WithCancel(f.ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := f.d.Run(ctx); err != nil {
			f.t.Errorf("Run returned %v when its context ended; want nil", err)
		}
	}()
	f.t.Cleanup(func() { cancel(); wg.Wait() })
}

func (f *fixture) removeContainers() {
	out := f.cli("ps", "-aq", "--filter", "label="+dockerstate.LabelCluster+"="+f.cluster)
	if ids := strings.Fields(out); len(ids) > 0 {
		f.cli(append([]string{"rm", "-f", "-v"}, ids...)...)
	}
}

// cli runs the docker CLI against the real daemon, behind the client's back.
func (f *fixture) cli(args ...string) string {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		f.t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// cliCreate creates a container of the fixture's task with the CLI.
func (f *fixture) cliCreate(name string, cmd ...string) string {
	f.t.Helper()
	args := []string{"create", "--name", dockerstate.ContainerName("test", 1, name)}
	for k, v := range f.labels(name) {
		args = append(args, "--label", k+"="+v)
	}
	return f.cli(append(append(args, testImage), cmd...)...)
}

func (f *fixture) labels(name string) map[string]string {
	return dockerstate.LabelsFor(f.taskARN, name, "test", 1, f.cluster)
}

// config is a create config for a task container running testapp cmd.
func (f *fixture) config(name string, cmd ...string) dockerstate.CreateConfig {
	return dockerstate.CreateConfig{
		Name:    dockerstate.ContainerName("test", 1, name),
		Image:   testImage,
		Command: cmd,
		Labels:  f.labels(name),
	}
}

// start creates and starts a container and waits until the cache shows it
// running.
func (f *fixture) start(cfg dockerstate.CreateConfig) *dockerstate.Container {
	f.t.Helper()
	c, err := f.d.CreateContainer(f.ctx, cfg)
	if err != nil {
		f.t.Fatalf("CreateContainer %s: %v", cfg.Name, err)
	}
	if err := f.d.StartContainer(f.ctx, c.ID); err != nil {
		f.t.Fatalf("StartContainer %s: %v", cfg.Name, err)
	}
	return f.changes.waitFor(f.t, 0, 10*time.Second, "container "+cfg.Name+" running", func(ch dockerstate.Change) bool {
		return isContainer(ch, c.ID, dockerstate.ContainerChanged) && ch.Container.State == dockerstate.StateRunning
	}).Container
}

func isContainer(ch dockerstate.Change, id string, kind dockerstate.ChangeKind) bool {
	return ch.Kind == kind && ch.Container != nil && ch.Container.ID == id
}

// recorder keeps every change a subscriber was told, for tests to wait on.
type recorder struct {
	mu      sync.Mutex
	changes []dockerstate.Change
	signal  chan struct{}
}

func (r *recorder) add(ch dockerstate.Change) {
	r.mu.Lock()
	r.changes = append(r.changes, ch)
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// mark is the position after the changes recorded so far.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.changes)
}

// waitFor returns the first change from position from on that matches, and
// fails the test if none arrives within timeout.
func (r *recorder) waitFor(t *testing.T, from int, timeout time.Duration, what string, match func(dockerstate.Change) bool) dockerstate.Change {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		seen := r.changes[from:]
		for _, ch := range seen {
			if match(ch) {
				r.mu.Unlock()
				return ch
			}
		}
		from += len(seen)
		r.mu.Unlock()
		select {
		case <-r.signal:
		case <-deadline.C:
			t.Fatalf("no change for %s within %s", what, timeout)
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
