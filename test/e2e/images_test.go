package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"

	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// pullTimeout bounds a task whose image comes from the local registry.
const pullTimeout = 60 * time.Second

// registryTask is a task of one container running ref.
func registryTask(family, ref string) h.TaskDefinition {
	c := h.App("app", "sleep")
	c.Image = ref
	return h.Task(family, c)
}

// stoppedWith waits for the task to stop and returns its stopped reason.
func stoppedWith(t *testing.T, a *h.Agent, file string) string {
	t.Helper()
	task := a.WaitTask(t, file, pullTimeout, h.IsStopped)
	return task.Status.StoppedReason
}

func engineAuth(authType, registry, password string) []string {
	var data map[string]map[string]string
	if authType == "dockercfg" {
		auth := base64.StdEncoding.EncodeToString([]byte(h.RegistryUser + ":" + password))
		data = map[string]map[string]string{"http://" + registry: {"auth": auth, "email": "e2e@example.com"}}
	} else {
		data = map[string]map[string]string{registry: {"username": h.RegistryUser, "password": password, "email": "e2e@example.com"}}
	}
	b, _ := json.Marshal(data)
	return []string{"ECS_ENGINE_AUTH_TYPE=" + authType, "ECS_ENGINE_AUTH_DATA=" + string(b)}
}

func TestPullWithEngineAuthOfBothTypes(t *testing.T) {
	t.Parallel()
	ref := h.PushImage(t, h.TestImage, "e2e-auth")
	for _, authType := range []string{"docker", "dockercfg"} {
		t.Run(authType, func(t *testing.T) {
			t.Parallel()
			env := append(engineAuth(authType, h.Registry(t), h.RegistryPassword), "ECS_IMAGE_PULL_BEHAVIOR=always")
			a := h.Start(t, h.Options{Env: env})
			a.WriteTask("app.json", registryTask("app", ref).JSON())
			a.WaitTask(t, "app.json", pullTimeout, h.IsRunning)
		})
	}
}

// TestRepositoryCredentialsWinOverWrongEngineAuth: engine auth with a
// wrong password stops its task with the registry and the auth failure in
// the reason; a container's repositoryCredentials (from the static file
// beside ecs.config) pull the same image; an unknown credentialsParameter
// is named in its task's reason.
func TestRepositoryCredentialsWinOverWrongEngineAuth(t *testing.T) {
	t.Parallel()
	registry := h.Registry(t)
	ref := h.PushImage(t, h.TestImage, "e2e-repocreds")
	// The static secret source is the file beside ecs.config.
	dir := t.TempDir()
	conf := filepath.Join(dir, "ecs.config")
	if err := os.WriteFile(conf, []byte("ECS_IMAGE_PULL_BEHAVIOR=always\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const param = "arn:aws:secretsmanager:us-east-1:123456789012:secret:e2e-registry-AbCdEf"
	secrets := fmt.Sprintf(`{%q: {"username": %q, "password": %q}}`, param, h.RegistryUser, h.RegistryPassword)
	if err := os.WriteFile(filepath.Join(dir, "repository-credentials.json"), []byte(secrets), 0o600); err != nil {
		t.Fatal(err)
	}
	// The harness's own ECS_IMAGE_PULL_BEHAVIOR would win over the file.
	a := h.New(t, h.Options{Env: append(engineAuth("docker", registry, "wrong-password"), "ECS_CONFIG_FILE="+conf, "ECS_IMAGE_PULL_BEHAVIOR=always")})
	a.Start()

	a.WriteTask("engine.json", registryTask("engine", ref).JSON())
	withCreds := registryTask("creds", ref)
	withCreds.ContainerDefinitions[0].RepositoryCredentials = map[string]string{"credentialsParameter": param}
	a.WriteTask("creds.json", withCreds.JSON())
	unknown := registryTask("unknown", ref)
	unknown.ContainerDefinitions[0].RepositoryCredentials = map[string]string{"credentialsParameter": "no-such-secret"}
	a.WriteTask("unknown.json", unknown.JSON())

	a.WaitTask(t, "creds.json", pullTimeout, h.IsRunning)
	reason := stoppedWith(t, a, "engine.json")
	for _, want := range []string{"CannotPullContainerError", registry, "ECS_ENGINE_AUTH_DATA"} {
		if !strings.Contains(reason, want) {
			t.Errorf("engine.json stopped reason %q does not contain %q", reason, want)
		}
	}
	if !strings.Contains(reason, "unauthorized") && !strings.Contains(reason, "authentication required") {
		t.Errorf("engine.json stopped reason %q names no auth failure", reason)
	}
	if strings.Contains(reason, "wrong-password") {
		t.Errorf("stopped reason %q leaks the password", reason)
	}
	reason = stoppedWith(t, a, "unknown.json")
	if !strings.Contains(reason, "no-such-secret") || !strings.Contains(reason, registry) {
		t.Errorf("unknown.json stopped reason %q does not name the secret and the registry", reason)
	}
}

func TestPullBehaviors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		behavior string
		// pullsAgain: a second task of an image this agent pulled pulls it
		// again.
		pullsAgain bool
		// runsOnCached: a task whose registry is unreachable runs from
		// the image already on the host.
		runsOnCached bool
	}{
		{"default", true, true},
		{"always", true, false},
		{"once", false, true},
		{"prefer-cached", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.behavior, func(t *testing.T) {
			t.Parallel()
			ref := h.PushImage(t, h.TestImage, "e2e-behavior-"+tc.behavior)
			env := append(engineAuth("docker", h.Registry(t), h.RegistryPassword), "ECS_IMAGE_PULL_BEHAVIOR="+tc.behavior)
			a := h.Start(t, h.Options{Env: env})

			a.WriteTask("first.json", registryTask("first", ref).JSON())
			a.WaitTask(t, "first.json", pullTimeout, h.IsRunning)
			first := h.Pulls(t, ref)
			if first != 1 {
				t.Fatalf("registry saw %d pulls for the first task of an absent image; want 1", first)
			}
			a.WriteTask("second.json", registryTask("second", ref).JSON())
			a.WaitTask(t, "second.json", pullTimeout, h.IsRunning)
			want := 1
			if tc.pullsAgain {
				want = 2
			}
			if got := h.Pulls(t, ref); got != want {
				t.Errorf("registry saw %d pulls after the second task; want %d", got, want)
			}

			// An image on the host whose registry does not answer.
			dead := fmt.Sprintf("127.0.0.1:%d/e2e-dead-%s:1", h.FreePort(t), tc.behavior)
			if out, err := exec.Command("docker", "tag", h.TestImage, dead).CombinedOutput(); err != nil {
				t.Fatalf("docker tag: %v: %s", err, out)
			}
			t.Cleanup(func() { h.RemoveImage(dead) })
			a.WriteTask("dead.json", registryTask("dead", dead).JSON())
			if tc.runsOnCached {
				a.WaitTask(t, "dead.json", pullTimeout, h.IsRunning)
				return
			}
			reason := stoppedWith(t, a, "dead.json")
			host := strings.SplitN(dead, "/", 2)[0]
			if !strings.Contains(reason, "CannotPullContainerError") || !strings.Contains(reason, host) || !strings.Contains(reason, "after 3 attempts") {
				t.Errorf("dead.json stopped reason %q; want CannotPullContainerError naming %s after 3 attempts", reason, host)
			}
		})
	}
}

func TestTwoTasksOfOneImageCauseOnePull(t *testing.T) {
	t.Parallel()
	ref := h.PushImage(t, h.TestImage, "e2e-shared")
	env := append(engineAuth("docker", h.Registry(t), h.RegistryPassword), "ECS_IMAGE_PULL_BEHAVIOR=always")
	a := h.Start(t, h.Options{Env: env})
	a.WriteTask("one.json", registryTask("one", ref).JSON())
	a.WriteTask("two.json", registryTask("two", ref).JSON())
	one := a.WaitTask(t, "one.json", pullTimeout, h.IsRunning)
	a.WaitTask(t, "two.json", pullTimeout, h.IsRunning)
	if got := h.Pulls(t, ref); got != 1 {
		t.Errorf("registry saw %d pulls for two tasks of one image; want 1", got)
	}
	out, err := a.CLI("describe", "task", one.Name)
	if err != nil {
		t.Fatalf("describe task: %v: %s", err, out)
	}
	// The event line: "Normal  Pulled  3s  pulled <ref> in 457ms".
	pulled := regexp.MustCompile(`Pulled .*pulled ` + regexp.QuoteMeta(ref) + ` in [0-9.]+(ms|s)\b`)
	if !pulled.Match(out) {
		t.Errorf("describe task shows no pull event with its duration for %s:\n%s", ref, out)
	}
	out, err = a.CLI("get", "images")
	if err != nil {
		t.Fatalf("get images: %v: %s", err, out)
	}
	if !strings.Contains(string(out), ref) || !strings.Contains(string(out), one.Name) {
		t.Errorf("get images does not show %s used by %s:\n%s", ref, one.Name, out)
	}
}

// stallingProxy forwards to the registry but, for every large blob, sends
// the first stallAfter bytes and then nothing until the test ends.
func stallingProxy(t *testing.T, registry string, stallAfter int) (addr string, stalled *atomic.Int32) {
	t.Helper()
	stop := make(chan struct{})
	stalled = &atomic.Int32{}
	target := &url.URL{Scheme: "http", Host: registry}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodGet && strings.Contains(resp.Request.URL.Path, "/blobs/") && resp.ContentLength > int64(2*stallAfter) {
			stalled.Add(1)
			resp.Body = &stallingBody{ReadCloser: resp.Body, left: stallAfter, stop: stop}
		}
		return nil
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: proxy}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		close(stop)
		_ = srv.Close()
	})
	return lis.Addr().String(), stalled
}

type stallingBody struct {
	io.ReadCloser
	left int
	stop chan struct{}
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		<-b.stop
		return 0, io.ErrUnexpectedEOF
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= n
	return n, err
}

func TestStalledPullIsCutOffByTheInactivityTimeout(t *testing.T) {
	t.Parallel()
	local := "ecs-agent-test/stall-" + strings.ToLower(t.Name()[len(t.Name())-6:]) + ":e2e"
	h.BuildRandomImage(t, local, 4<<20)
	ref := h.PushImage(t, local, "e2e-stall")
	h.RemoveImage(local) // the random layer must not be on the host
	proxy, stalled := stallingProxy(t, h.Registry(t), 256<<10)
	viaProxy := proxy + ref[strings.Index(ref, "/"):]

	env := append(engineAuth("docker", proxy, h.RegistryPassword),
		"ECS_IMAGE_PULL_BEHAVIOR=always", "ECS_IMAGE_PULL_INACTIVITY_TIMEOUT=3s")
	a := h.Start(t, h.Options{Env: env})
	start := time.Now()
	a.WriteTask("stall.json", registryTask("stall", viaProxy).JSON())

	// While it hangs, the pull's progress is in the Image object.
	a.WaitFor(t, "pull progress in get images", pullTimeout, func() (bool, string) {
		out, err := a.CLI("get", "images", "-o", "json")
		if err != nil {
			return false, err.Error()
		}
		var list apiv1.ImageList
		if err := json.Unmarshal(out, &list); err != nil {
			return false, err.Error()
		}
		for _, img := range list.Items {
			if p := img.Status.Progress; img.Spec.Ref == viaProxy && p != nil && p.Done > 0 && p.Done < p.Total {
				return true, ""
			}
		}
		return false, string(out)
	})
	reason := stoppedWith(t, a, "stall.json")
	took := time.Since(start)
	if !strings.Contains(reason, "no pull progress") || !strings.Contains(reason, "after 3 attempts") {
		t.Errorf("stopped reason %q; want the inactivity timeout after 3 attempts", reason)
	}
	if n := stalled.Load(); n < 3 {
		t.Errorf("proxy stalled %d blob downloads; want one per attempt (3)", n)
	}
	t.Logf("stalled pull gave up after %s: %s", took.Round(time.Millisecond), reason)
}
