package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Options tune one agent; the zero value suits most tests.
type Options struct {
	// CleanupWait is ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION. The default is
	// an hour, so that stopped tasks stay visible for assertions.
	CleanupWait time.Duration
	// StopTimeout is ECS_CONTAINER_STOP_TIMEOUT (default 2s).
	StopTimeout time.Duration
	// PortRange is ECS_DYNAMIC_HOST_PORT_RANGE ("start-end"); by default
	// each agent of the process gets its own block of 50 ports.
	PortRange string
	// Env is added to (and overrides) the agent's environment.
	Env []string
	// ReadyPoll is how often Start and WaitReady ask /readyz; by default
	// the tests' interval. A benchmark that times a start sets it finer,
	// or the figure is rounded up to the next poll.
	ReadyPoll time.Duration
}

// Agent is one ecs-agent daemon under test, with its own data directory,
// static task directory, ports, cluster and log file. Stop, Kill and Start
// may be called in any order; everything it started is killed and every
// container of its cluster removed when the test ends.
type Agent struct {
	tb   testing.TB
	bin  string
	opts Options

	// Dir holds DataDir, TasksDir and the log; it is kept when the test
	// fails, for post-mortem.
	Dir      string
	DataDir  string
	TasksDir string
	LogPath  string
	// Cluster is ECS_CLUSTER, unique per agent: every container the agent
	// makes carries it as com.amazonaws.ecs.cluster.
	Cluster           string
	IntrospectionPort int
	MetadataPort      int
	// RunArgs are added to `ecs-agent run` at each start (e.g.
	// --reregister).
	RunArgs   []string
	PortRange string

	mu      sync.Mutex
	proc    *process
	starts  int
	stopped bool // the test stopped or killed the agent on purpose
}

type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // valid once done is closed
}

var portBlock atomic.Int32

// New prepares an agent without starting it.
func New(tb testing.TB, opts Options) *Agent {
	tb.Helper()
	bin := Binary(tb)
	dir, err := os.MkdirTemp("", "ecs-agent-e2e-")
	if err != nil {
		tb.Fatalf("agent dir: %v", err)
	}
	a := &Agent{
		tb: tb, bin: bin, opts: opts,
		Dir:               dir,
		DataDir:           filepath.Join(dir, "data"),
		TasksDir:          filepath.Join(dir, "tasks"),
		LogPath:           filepath.Join(dir, "agent.log"),
		Cluster:           clusterName(tb.Name()),
		IntrospectionPort: FreePort(tb),
		MetadataPort:      FreePort(tb),
		PortRange:         opts.PortRange,
	}
	if a.PortRange == "" {
		// Blocks differ per agent so that parallel agents do not race for
		// the same free port; the process id spreads concurrent packages.
		block := (int32(os.Getpid())%40)*10 + portBlock.Add(1)%10
		start := 41000 + 50*int(block%400)
		a.PortRange = fmt.Sprintf("%d-%d", start, start+49)
	}
	for _, d := range []string{a.DataDir, a.TasksDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatalf("agent dir: %v", err)
		}
	}
	tb.Cleanup(a.cleanup)
	return a
}

// Start is New followed by Start and WaitReady.
func Start(tb testing.TB, opts Options) *Agent {
	tb.Helper()
	a := New(tb, opts)
	a.Start()
	return a
}

// Start starts `ecs-agent run` on the agent's directories and waits until
// /readyz answers 200.
func (a *Agent) Start() {
	a.tb.Helper()
	a.mu.Lock()
	if a.proc != nil && !a.proc.exited() {
		a.mu.Unlock()
		a.tb.Fatalf("agent already running")
	}
	a.starts++
	log, err := os.OpenFile(a.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		a.mu.Unlock()
		a.tb.Fatalf("agent log: %v", err)
	}
	fmt.Fprintf(log, "==== harness: start #%d at %s ====\n", a.starts, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(a.bin, append([]string{"run"}, a.RunArgs...)...)
	cmd.Env = a.env()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		a.mu.Unlock()
		a.tb.Fatalf("start %s run: %v", a.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.done)
	}()
	a.proc, a.stopped = p, false
	a.mu.Unlock()
	a.WaitReady(30 * time.Second)
}

// RunToExit runs `ecs-agent run` with the agent's environment and RunArgs
// in the foreground, for an agent expected to refuse to start, and returns
// its exit status and output. It fails the test if the agent is still
// running after timeout.
func (a *Agent) RunToExit(timeout time.Duration) (int, string) {
	a.tb.Helper()
	if a.Running() {
		a.tb.Fatalf("agent already running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.bin, append([]string{"run"}, a.RunArgs...)...)
	cmd.Env = a.env()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		a.tb.Fatalf("ecs-agent run still running after %s; output:\n%s", timeout, out)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	a.tb.Fatalf("ecs-agent run: %v", err)
	return 0, ""
}

// WaitReady waits until the agent's /readyz answers 200, failing the test
// if the agent exits first.
func (a *Agent) WaitReady(timeout time.Duration) {
	a.tb.Helper()
	url := a.URL("/readyz")
	client := &http.Client{Timeout: time.Second}
	last := "no answer yet"
	every := a.opts.ReadyPoll
	if every <= 0 {
		every = pollEvery
	}
	a.waitEvery(a.tb, "agent ready at "+url, timeout, every, func() (bool, string) {
		resp, err := client.Get(url)
		if err != nil {
			last = err.Error()
			return false, last
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		last = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
		return resp.StatusCode == http.StatusOK, last
	})
}

// Stop sends SIGTERM and waits for the agent to exit; it returns the
// process's exit error (nil for exit status 0).
func (a *Agent) Stop() error {
	a.tb.Helper()
	return a.signal(syscall.SIGTERM, 30*time.Second)
}

// Kill sends SIGKILL, as a crash would, and waits for the process to go.
func (a *Agent) Kill() {
	a.tb.Helper()
	a.signal(syscall.SIGKILL, 10*time.Second)
}

func (a *Agent) signal(sig syscall.Signal, timeout time.Duration) error {
	a.tb.Helper()
	a.mu.Lock()
	p := a.proc
	a.stopped = true
	a.mu.Unlock()
	if p == nil || p.exited() {
		a.tb.Fatalf("agent is not running")
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		a.tb.Fatalf("signal agent (pid %d) with %v: %v", p.cmd.Process.Pid, sig, err)
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		a.tb.Fatalf("agent did not exit within %s of %v", timeout, sig)
		return nil
	}
}

// Running reports whether the agent process is alive.
func (a *Agent) Running() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.proc != nil && !a.proc.exited()
}

// unexpectedExit says how the agent died if it exited without being told to.
func (a *Agent) unexpectedExit() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc == nil || a.stopped || !a.proc.exited() {
		return nil
	}
	if a.proc.err == nil {
		return errors.New("agent exited with status 0 on its own")
	}
	return fmt.Errorf("agent exited on its own: %w", a.proc.err)
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// URL is the agent's introspection endpoint for path.
func (a *Agent) URL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", a.IntrospectionPort, path)
}

// env is the agent's environment: this process's, minus any ECS_* setting
// that would leak in, plus the agent's own.
func (a *Agent) env() []string {
	env := append(a.cliEnv(), "ECS_STATIC_TASKS_DIR="+a.TasksDir)
	env = append(env, a.settings()...)
	return append(env, a.opts.Env...)
}

// settings are the agent's ECS_* variables besides where its files are:
// offline, its own cluster and ports, test-sized timeouts.
func (a *Agent) settings() []string {
	cleanup := a.opts.CleanupWait
	if cleanup == 0 {
		cleanup = time.Hour
	}
	stop := a.opts.StopTimeout
	if stop == 0 {
		stop = 2 * time.Second
	}
	return []string{
		"ECS_OFFLINE=true",
		"ECS_TASK_METADATA_PORT=" + strconv.Itoa(a.MetadataPort),
		"ECS_CLUSTER=" + a.Cluster,
		"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=" + cleanup.String(),
		"ECS_CONTAINER_STOP_TIMEOUT=" + stop.String(),
		"ECS_DYNAMIC_HOST_PORT_RANGE=" + a.PortRange,
		"ECS_LOGLEVEL=debug",
		// The test images exist only locally: asking a registry for them
		// on every task start (the default behaviour) only costs time.
		"ECS_IMAGE_PULL_BEHAVIOR=prefer-cached",
	}
}

// cliEnv is what `ecs-agent get` needs to find this agent.
func (a *Agent) cliEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ECS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"ECS_CONFIG_FILE=/dev/null",
		"ECS_DATADIR="+a.DataDir,
		"ECS_INTROSPECTION_PORT="+strconv.Itoa(a.IntrospectionPort),
	)
}

// CLI runs `ecs-agent args…` as an operator would against this agent and
// returns its stdout; stderr goes into the error.
func (a *Agent) CLI(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.bin, args...)
	cmd.Env = a.cliEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("ecs-agent %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// LogTail returns the last n lines of the agent's log, each cut to a
// readable length.
func (a *Agent) LogTail(n int) string {
	data, err := os.ReadFile(a.LogPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > 600 {
			lines[i] = l[:600] + "…"
		}
	}
	return strings.Join(lines, "\n")
}

// LogLines returns the log lines that contain every one of the words.
func (a *Agent) LogLines(words ...string) []string {
	data, _ := os.ReadFile(a.LogPath)
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(l, w)
		}
		if all && l != "" {
			out = append(out, l)
		}
	}
	return out
}

// cleanup kills the agent, removes every container and volume of its
// cluster, and keeps the agent's directory only if the test failed.
func (a *Agent) cleanup() {
	a.mu.Lock()
	p := a.proc
	a.stopped = true
	a.mu.Unlock()
	if p != nil && !p.exited() {
		p.cmd.Process.Kill()
		<-p.done
	}
	if err := RemoveCluster(a.Cluster); err != nil {
		a.tb.Errorf("remove containers of cluster %s: %v", a.Cluster, err)
	}
	if a.tb.Failed() {
		a.tb.Logf("agent dir kept: %s\nlast lines of %s:\n%s", a.Dir, a.LogPath, a.LogTail(80))
		return
	}
	os.RemoveAll(a.Dir)
}

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var notClusterChar = regexp.MustCompile(`[^a-z0-9-]+`)

// clusterName makes an ECS cluster name unique to one agent of one test.
func clusterName(test string) string {
	name := strings.Trim(notClusterChar.ReplaceAllString(strings.ToLower(test), "-"), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	return "e2e-" + name + "-" + randomHex(4)
}
