// Package harness runs the real ecs-agent binary against the real Docker
// daemon for end-to-end tests and benchmarks: it builds the binary and the
// test image once per test process, starts and kills agents on their own
// directories, ports and cluster, reads their tasks through the agent's own
// CLI, and asks Docker what really happened through the docker CLI.
package harness

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The images tasks of the tests run; hack/build-test-images.sh builds them
// without a registry.
const (
	// TestImage runs hack/testimage: serve, exit, sleep, env, …
	TestImage = "ecs-agent-test/app:latest"
	// CredsProbeImage runs hack/credsprobe: the AWS SDK's default
	// credential chain and STS GetCallerIdentity.
	CredsProbeImage = "ecs-agent-test/credsprobe:latest"
	// BusyboxImage is Debian's static busybox, with sh and wget; it is
	// missing on hosts without busybox-static (RequireImage skips then).
	BusyboxImage = "ecs-agent-test/busybox:latest"
)

// RequireImage skips tb when the local image is missing.
func RequireImage(tb testing.TB, image string) {
	tb.Helper()
	if err := exec.Command("docker", "image", "inspect", image).Run(); err != nil {
		tb.Skipf("image %s is not on this host (hack/build-test-images.sh builds it when it can)", image)
	}
}

var (
	buildOnce sync.Once
	buildDir  string
	binary    string
	buildErr  error
)

// Prepare builds the agent binary and the test image, once per process. A
// second call returns the first call's result.
func Prepare() (string, error) {
	buildOnce.Do(func() {
		binary, buildErr = prepare()
	})
	return binary, buildErr
}

func prepare() (string, error) {
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		return "", fmt.Errorf("the end-to-end tests need a running Docker daemon: docker version: %v: %s", err, strings.TrimSpace(string(out)))
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	buildDir, err = os.MkdirTemp("", "ecs-agent-e2e-bin-")
	if err != nil {
		return "", fmt.Errorf("temp dir for the agent binary: %w", err)
	}
	bin := filepath.Join(buildDir, "ecs-agent")
	build := exec.Command("go", "build", "-o", bin, "./cmd/agent")
	build.Dir = root
	// Static, as released: the image test puts this very binary into the
	// agent's FROM-scratch image, which has no libc.
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	// With the toolchain that releases it, as `make` builds it.
	build.Env = append(build.Env, goToolchainEnv(root)...)
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/agent in %s: %v\n%s", root, err, out)
	}
	images := exec.Command(filepath.Join(root, "hack", "build-test-images.sh"))
	images.Dir = root
	if out, err := images.CombinedOutput(); err != nil {
		return "", fmt.Errorf("hack/build-test-images.sh: %v\n%s", err, out)
	}
	return bin, nil
}

// Binary returns the built agent, building it on first use; it fails tb
// when the build fails.
func Binary(tb testing.TB) string {
	tb.Helper()
	bin, err := Prepare()
	if err != nil {
		tb.Fatalf("prepare the agent binary and test image: %v", err)
	}
	return bin
}

// Main runs a package's tests and removes the built binary afterwards. With
// eager set it builds first and fails the whole run at once when the build
// fails, rather than once per test.
func Main(m *testing.M, eager bool) int {
	defer func() {
		if buildDir != "" {
			os.RemoveAll(buildDir)
		}
		removeAgentImage()
	}()
	flag.Parse()
	if testing.Short() {
		// make test-unit promises a run without Docker.
		fmt.Println("end-to-end tests and benchmarks skipped under -short: they need Docker")
		return 0
	}
	if eager {
		if _, err := Prepare(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
	}
	return m.Run()
}

// goToolchainEnv returns GOTOOLCHAIN=<go.mod's toolchain line> when the
// environment sets no GOTOOLCHAIN, as the Makefile and hack/*.sh do (the
// build machines' go.env says GOTOOLCHAIN=local, under which the go command
// ignores that line); nothing otherwise.
func goToolchainEnv(root string) []string {
	if os.Getenv("GOTOOLCHAIN") != "" {
		return nil
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "toolchain "); ok {
			return []string{"GOTOOLCHAIN=" + strings.TrimSpace(v)}
		}
	}
	return nil
}

// RepoRoot returns the directory of the module's go.mod.
func RepoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not inside the module (got %q)", mod)
	}
	return filepath.Dir(mod), nil
}
