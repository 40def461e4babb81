package hack_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// These run hack/registry.sh itself, on a port and state directory of
// their own, through the states a machine can leave it in: CI once failed
// on a fresh clone because a pid file left in /tmp named a process that
// was no longer the registry.

// registry runs hack/registry.sh with its state in dir and returns its
// stdout, stderr and error.
func registry(t *testing.T, dir string, port int) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "registry.sh")
	cmd.Env = append(os.Environ(), "REGISTRY_DIR="+dir, "REGISTRY_PORT="+strconv.Itoa(port))
	// A child the script left behind (a curl with no time limit) holds the
	// pipes open; stop waiting for them soon after the script is killed.
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return strings.TrimSpace(stdout.String()), stderr.String(), err
}

func pidIn(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	return pid
}

// stopRegistry kills the registry the script last started in dir, if the
// pid file names one (it may still name this test).
func stopRegistry(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || !bytes.Contains(cmdline, []byte("docker-registry")) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGCONT)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

func TestRegistryScriptStartsPastAStalePidFileAndAWedgedRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and runs docker-registry")
	}
	dir, port := t.TempDir(), h.FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	t.Cleanup(func() { stopRegistry(dir) })

	// A pid file naming a live process that is not the registry (this test).
	if err := os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := registry(t, dir, port)
	if err != nil || out != addr {
		t.Fatalf("with a stale pid file: got %q, %v; want %q\n%s", out, err, addr, stderr)
	}
	first := pidIn(t, dir)
	if first == os.Getpid() {
		t.Fatalf("the pid file still names this test, not a registry")
	}

	// Running and answering: the script only says where it is.
	if out, stderr, err = registry(t, dir, port); err != nil || out != addr {
		t.Fatalf("with the registry up: got %q, %v\n%s", out, err, stderr)
	}
	if got := pidIn(t, dir); got != first {
		t.Fatalf("a second run replaced a working registry: pid %d, was %d", got, first)
	}

	// Ours but wedged (stopped: it accepts connections and never answers).
	if err := syscall.Kill(first, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	out, stderr, err = registry(t, dir, port)
	if err != nil || out != addr {
		t.Fatalf("with the registry wedged: got %q, %v\n%s", out, err, stderr)
	}
	if !strings.Contains(stderr, "restarting it") {
		t.Errorf("the script did not say it replaced the wedged registry:\n%s", stderr)
	}
	if got := pidIn(t, dir); got == first {
		t.Fatalf("the wedged registry (pid %d) is still the one in the pid file", first)
	}
}

func TestRegistryScriptNamesWhatHoldsItsPort(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and runs docker-registry")
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	t.Cleanup(func() { stopRegistry(dir) })

	out, stderr, err := registry(t, dir, port)
	if err == nil {
		t.Fatalf("the script succeeded with its port held by another process: %q", out)
	}
	want := "127.0.0.1:" + strconv.Itoa(port) + " is taken by another process"
	if !strings.Contains(stderr, want) {
		t.Fatalf("stderr does not say %q:\n%s", want, stderr)
	}
}
