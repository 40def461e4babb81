package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/hack/fakeaws"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// waitLog waits until a container's output has a line starting with
// prefix, and returns that line.
func waitLog(t *testing.T, id, prefix string, timeout time.Duration) string {
	t.Helper()
	var line string
	h.WaitFor(t, fmt.Sprintf("a line %q from container %.12s", prefix, id), timeout, func() (bool, string) {
		out, err := h.Logs(id)
		if err != nil {
			return false, err.Error()
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, prefix) {
				line = l
				return true, ""
			}
		}
		return false, out
	})
	return line
}

// busybox is a container of the busybox image running a shell script.
func busybox(name, script string) h.ContainerDefinition {
	return h.ContainerDefinition{Name: name, Image: h.BusyboxImage, Memory: 32, Command: []string{"sh", "-c", script}}
}

// After ecs-agent setup-host, containers of a bridge and of a host-network
// task reach their task metadata and their task role through
// 169.254.170.2, with busybox wget and with the AWS SDK's default credential
// chain; a bridge container cannot reach the agent's introspection port.
func TestTasksReachTheirMetadataAndRoleAt169_254_170_2(t *testing.T) {
	h.RequireImage(t, h.BusyboxImage)
	aws := h.StartFakeAWS(t, fakeaws.Options{})
	role := aws.AddRole("app")
	a := h.Start(t, h.Options{Env: append(aws.AgentEnv(), "ECS_ENABLE_TASK_IAM_ROLE=true", "ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true")})
	a.SetupHost()

	bridge := h.Task("bridge",
		busybox("wget", `busybox wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4/task"; echo; echo END; exec busybox sleep 3600`),
		h.ContainerDefinition{Name: "probe", Image: h.CredsProbeImage, Memory: 64}.Env("AWS_ENDPOINT_URL_STS", aws.URL),
		busybox("introspect", fmt.Sprintf(`for a in 127.0.0.1 %s; do if busybox wget -q -T 3 -O /dev/null http://$a:%d/v1/metadata; then echo "reached $a"; else echo "refused $a"; fi; done; echo END; exec busybox sleep 3600`,
			h.BridgeAddress(t), a.IntrospectionPort)),
	)
	bridge.TaskRoleArn = role
	host := h.Task("host",
		h.ContainerDefinition{Name: "probe", Image: h.CredsProbeImage, Memory: 64}.Env("AWS_ENDPOINT_URL_STS", aws.URL),
		busybox("wget", `busybox wget -q -O - "$ECS_CONTAINER_METADATA_URI_V4"; echo; echo END; exec busybox sleep 3600`),
	)
	host.NetworkMode = apiv1.NetworkModeHost
	host.TaskRoleArn = role
	a.WriteTask("bridge.json", bridge.JSON())
	a.WriteTask("host.json", host.JSON())

	for _, name := range []string{"bridge.json", "host.json"} {
		task := a.WaitTask(t, name, 90*time.Second, h.IsRunning)
		probe := h.Container(t, task, "probe")
		want := fmt.Sprintf("identity arn:aws:sts::%s:assumed-role/app/ecs-%s key ASIA", fakeaws.Account, task.Name)
		if got := waitLog(t, probe.DockerID, "identity ", 60*time.Second); !strings.HasPrefix(got, want) {
			out, _ := h.Logs(probe.DockerID)
			t.Errorf("%s: the SDK's default chain answered %q; want %q…\n%s", name, got, want, out)
		}
		wget := h.Container(t, task, "wget")
		out := waitLog(t, wget.DockerID, "{", 30*time.Second)
		if name == "bridge.json" {
			var meta struct {
				TaskARN    string
				Family     string
				Containers []struct{ DockerId, Name string }
			}
			if err := json.Unmarshal([]byte(out), &meta); err != nil {
				t.Fatalf("wget of $ECS_CONTAINER_METADATA_URI_V4/task: %v: %s", err, out)
			}
			found := false
			for _, c := range meta.Containers {
				found = found || (c.Name == "wget" && c.DockerId == wget.DockerID)
			}
			if meta.TaskARN != task.Spec.Arn || meta.Family != "bridge" || !found {
				t.Errorf("task metadata from inside the container = %+v; want task %s with container wget %s", meta, task.Spec.Arn, wget.DockerID)
			}
		} else {
			var meta struct {
				DockerId string
				Networks []struct{ NetworkMode string }
			}
			if err := json.Unmarshal([]byte(out), &meta); err != nil || meta.DockerId != wget.DockerID || len(meta.Networks) != 1 || meta.Networks[0].NetworkMode != "host" {
				t.Errorf("host container's own metadata = %+v (%v): %s", meta, err, out)
			}
		}
	}

	task := a.WaitTask(t, "bridge.json", 10*time.Second, h.IsRunning)
	intro := h.Container(t, task, "introspect")
	waitLog(t, intro.DockerID, "END", 30*time.Second)
	logs, _ := h.Logs(intro.DockerID)
	if strings.Contains(logs, "reached") {
		t.Errorf("a bridge container reached the introspection port:\n%s", logs)
	}
	if resp, err := http.Get(a.URL("/v1/metadata")); err != nil || resp.StatusCode != 200 {
		t.Errorf("the host itself cannot reach the introspection port (%v): the check above proves nothing", err)
	}
}

// Short-lived credentials are renewed before they expire, so a program
// that keeps calling AWS never sees them lapse; after kill -9 the agent
// answers a known id 503 until it has the role's credentials again, then
// 200, and an unknown id 400.
func TestRoleCredentialsAreRenewedAndComeBackAfterKill9(t *testing.T) {
	aws := h.StartFakeAWS(t, fakeaws.Options{Lifetime: 20 * time.Second})
	role := aws.AddRole("app")
	a := h.Start(t, h.Options{Env: append(aws.AgentEnv(), "ECS_ENABLE_TASK_IAM_ROLE=true")})
	a.SetupHost()
	td := h.Task("renew", h.ContainerDefinition{Name: "probe", Image: h.CredsProbeImage, Memory: 64,
		Command: []string{"3s", "50s"}}.Env("AWS_ENDPOINT_URL_STS", aws.URL))
	td.TaskRoleArn = role
	a.WriteTask("renew.json", td.JSON())
	task := a.WaitTask(t, "renew.json", 60*time.Second, h.IsRunning)
	probe := h.Container(t, task, "probe")
	waitLog(t, probe.DockerID, "done", 90*time.Second)
	logs, _ := h.Logs(probe.DockerID)
	keys := map[string]bool{}
	for _, l := range strings.Split(logs, "\n") {
		if strings.HasPrefix(l, "error") {
			t.Errorf("the program saw its credentials fail: %s", l)
		}
		if _, key, ok := strings.Cut(l, " key "); ok {
			keys[key] = true
		}
	}
	if len(keys) < 2 {
		t.Errorf("over 50s of 20s credentials the program used %d keys; want renewed ones:\n%s", len(keys), logs)
	}

	path := credentialsPath(t, probe.DockerID)
	a.Kill()
	release := aws.Hold("AssumeRole")
	a.Start()
	metadata := fmt.Sprintf("http://127.0.0.1:%d", a.MetadataPort)
	for _, c := range []struct {
		path string
		code int
	}{{path, http.StatusServiceUnavailable}, {"/v2/credentials/0b9e2d4c-5a6f-4e1d-8c3b-2a1f0e9d8c7b", http.StatusBadRequest}} {
		if code, body := get(t, metadata+c.path); code != c.code {
			t.Errorf("after kill -9, before STS answers: GET %s = %d %s; want %d", c.path, code, body, c.code)
		}
	}
	release()
	h.WaitFor(t, "the known id's credentials back", 60*time.Second, func() (bool, string) {
		code, body := get(t, metadata+path)
		return code == http.StatusOK, fmt.Sprintf("%d %s", code, body)
	})
}

// credentialsPath is the AWS_CONTAINER_CREDENTIALS_RELATIVE_URI a container
// was given.
func credentialsPath(t *testing.T, id string) string {
	t.Helper()
	c, ok, err := h.Inspect(id)
	if err != nil || !ok {
		t.Fatalf("inspect %s: %v", id, err)
	}
	for _, kv := range c.Config.Env {
		if v, ok := strings.CutPrefix(kv, apiv1.EnvCredentialsRelativeURI+"="); ok {
			return v
		}
	}
	t.Fatalf("container %.12s has no %s", id, apiv1.EnvCredentialsRelativeURI)
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	return h.Get(&http.Client{Timeout: 5 * time.Second}, url)
}
