package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// The local test registry's credentials and state directory, as
// hack/registry.sh sets them up (test values; it listens on loopback only).
const (
	RegistryUser     = "ecs-test"
	RegistryPassword = "ecs-test-password"
	registryDir      = "/tmp/ecs-agent-registry"
)

var (
	registryOnce sync.Once
	registryAddr string
	registryErr  error
)

// Registry starts the local registry (hack/registry.sh, idempotent) and
// returns its address, host:port.
func Registry(tb testing.TB) string {
	tb.Helper()
	registryOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			registryErr = err
			return
		}
		cmd := exec.Command(filepath.Join(root, "hack", "registry.sh"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			registryErr = fmt.Errorf("hack/registry.sh: %v: %s", err, stderr.String())
			return
		}
		registryAddr = strings.TrimSpace(string(out))
	})
	if registryErr != nil {
		tb.Fatalf("local registry: %v", registryErr)
	}
	return registryAddr
}

// ECRHost is the ECR registry name hack/registry.sh maps to a loopback
// address in /etc/hosts (its ECR_TEST_HOST default).
const ECRHost = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

var (
	ecrOnce sync.Once
	ecrErr  error
)

// ECRRegistry makes the local registry answer as ECRHost, the way Docker
// reaches a registry named without a port: ECRHost resolves (through
// /etc/hosts) to a loopback address, so Docker treats it as insecure and
// falls back from https on port 443 to http on port 80, where this process
// forwards every connection to the local registry. An image pushed with
// PushImage as <registry>/<repo>:<tag> is then pulled as
// ECRHost/<repo>:<tag>. It returns ECRHost.
func ECRRegistry(tb testing.TB) string {
	tb.Helper()
	registry := Registry(tb) // hack/registry.sh also writes the hosts entry
	ecrOnce.Do(func() { ecrErr = forwardECR(registry) })
	if ecrErr != nil {
		tb.Fatalf("ECR registry name: %v", ecrErr)
	}
	return ECRHost
}

func forwardECR(registry string) error {
	// The resolver re-reads /etc/hosts every few seconds; the entry may be
	// minutes old or just written.
	var ip net.IP
	var addrs []net.IP
	var err error
	if wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 10*time.Second, true,
		func(ctx context.Context) (bool, error) {
			addrs, err = net.DefaultResolver.LookupIP(ctx, "ip4", ECRHost)
			if err == nil && len(addrs) > 0 && addrs[0].IsLoopback() {
				ip = addrs[0]
				return true, nil
			}
			return false, nil
		}) != nil {
		return fmt.Errorf("%s does not resolve to a loopback address (%v %v): hack/registry.sh adds it to /etc/hosts when run as root", ECRHost, addrs, err)
	}
	lis, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "80"))
	if err != nil {
		return fmt.Errorf("listen where Docker looks for %s: %w", ECRHost, err)
	}
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go forward(c, registry)
		}
	}()
	return nil
}

// forward copies a connection to and from the registry at addr.
func forward(c net.Conn, addr string) {
	defer c.Close()
	u, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(u, c)
		_ = u.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(c, u)
	_ = c.(*net.TCPConn).CloseWrite()
	<-done
}

// PushImage tags the local image src as <registry>/<repo>:<tag> with a
// repository unique to this call, pushes it, removes the local tag (so the
// agent has to pull it) and returns the reference. The repository name
// keeps registry log lines of one test apart from every other's.
func PushImage(tb testing.TB, src, repo string) string {
	tb.Helper()
	ref := fmt.Sprintf("%s/%s-%s:1", Registry(tb), repo, randomHex(4))
	if out, err := exec.Command("docker", "tag", src, ref).CombinedOutput(); err != nil {
		tb.Fatalf("docker tag %s %s: %v: %s", src, ref, err, out)
	}
	push := exec.Command("docker", "push", ref)
	push.Env = append(os.Environ(), "DOCKER_CONFIG="+RegistryDockerConfig())
	if out, err := push.CombinedOutput(); err != nil {
		tb.Fatalf("docker push %s: %v: %s", ref, err, out)
	}
	RemoveImage(ref)
	tb.Cleanup(func() { RemoveImage(ref) })
	return ref
}

// RegistryDockerConfig is a DOCKER_CONFIG directory logged in to the local
// registry, for docker push and pull by hand.
func RegistryDockerConfig() string { return filepath.Join(registryDir, "docker-config") }

// BuildRandomImage builds tag from the test image plus one layer of size
// random bytes, so that pulling it downloads a layer no other image shares.
// The image is removed when the test ends.
func BuildRandomImage(tb testing.TB, tag string, size int64) {
	tb.Helper()
	dir := tb.TempDir()
	f, err := os.Create(filepath.Join(dir, "blob"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	df := fmt.Sprintf("FROM %s\nCOPY blob /blob\n", TestImage)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("docker", "build", "-q", "-t", tag, dir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("docker build: %v: %s", err, out)
	}
	tb.Cleanup(func() { RemoveImage(tag) })
}

// RemoveImage removes a local image reference, if present.
func RemoveImage(ref string) { _ = exec.Command("docker", "rmi", ref).Run() }

// Pulls counts the pulls of ref the registry saw: the daemon starts each
// pull with one HEAD (or GET) of the tag's manifest, then fetches it by
// digest, so requests by tag count pulls, authorised or refused.
func Pulls(tb testing.TB, ref string) int {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(registryDir, "registry.log"))
	if err != nil {
		tb.Fatalf("registry log: %v", err)
	}
	slash, colon := strings.Index(ref, "/"), strings.LastIndex(ref, ":")
	path := "/v2/" + ref[slash+1:colon] + "/manifests/" + ref[colon+1:] + " "
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		// Access log lines: … "HEAD /v2/<repo>/manifests/<tag> HTTP/1.1" 200 …
		if strings.Contains(l, `"HEAD `+path) || strings.Contains(l, `"GET `+path) {
			n++
		}
	}
	return n
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
