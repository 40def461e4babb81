package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// readmeRunLine is the `docker run` line of the README's "Running as a
// container", split into words as the shell would (it has no quotes).
func readmeRunLine(t *testing.T) []string {
	t.Helper()
	root, err := h.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Running as a container\n")
	if !ok {
		t.Fatal(`README.md has no "## Running as a container" section`)
	}
	_, line, ok := strings.Cut(section, "\ndocker run ")
	if !ok {
		t.Fatal(`README.md "Running as a container" has no line starting "docker run "`)
	}
	var joined strings.Builder
	joined.WriteString("docker run ")
	for _, l := range strings.Split(line, "\n") {
		more := strings.HasSuffix(l, `\`)
		joined.WriteString(strings.TrimSuffix(l, `\`) + " ")
		if !more {
			break
		}
	}
	if strings.ContainsAny(joined.String(), `'"$`) {
		t.Fatalf("the README's run line has quotes or variables, which this test does not expand: %s", joined.String())
	}
	return strings.Fields(joined.String())
}

// TestReadmeDockerRunLineRunsAndAdoptsTasks runs the agent's image with the
// README's docker run line, as an operator on a fresh host would: the
// static task in the mounted tasks.d runs, the local endpoint answers on
// the host, the log file lands in the mounted log directory, `docker stop`
// stops the agent and not the task, and a new agent container started with
// the same line adopts the task without restarting it.
func TestReadmeDockerRunLineRunsAndAdoptsTasks(t *testing.T) {
	t.Parallel()
	line := readmeRunLine(t)
	for _, want := range []string{"--net=host", "--restart=on-failure:10", "--env-file=/etc/ecs/ecs.config",
		"--volume=/var/run:/var/run", "--volume=/var/lib/ecs/data:/data", "--volume=/etc/ecs:/etc/ecs"} {
		if !slices.Contains(line, want) {
			t.Errorf("README run line lacks %s: %s", want, strings.Join(line, " "))
		}
	}
	c := h.NewContainer(t, h.AgentImage(t), h.Options{})
	c.WriteTask("web.json", h.Task("web", h.App("web", "serve", "8080").Port(8080, 0)).JSON())

	c.Run(line)
	task := c.WaitTask(t, "web.json", startTimeout, h.IsRunning)
	h.WaitHTTP(t, int(h.Container(t, task, "web").Ports[0].HostPort))
	meta := getJSON[struct{ Cluster, ContainerInstanceArn, Version string }](t, c.URL("/v1/metadata"))
	if meta.Cluster != c.Cluster || meta.ContainerInstanceArn == "" {
		t.Errorf("/v1/metadata on the host = %+v, want cluster %s and an instance ARN", meta, c.Cluster)
	}
	if out, err := c.Exec("get", "tasks"); err != nil || !strings.Contains(string(out), "RUNNING") {
		t.Errorf("docker exec %s /ecs-agent get tasks: %v\n%s", c.Name, err, out)
	}
	if lines := c.LogLines("ecs-agent starting"); len(lines) == 0 {
		t.Errorf("no start-up line in the mounted log file %s (ECS_LOGFILE=/log/ecs-agent.log)", c.LogPath)
	}
	facts, ids := factsOf(t, task), clusterIDs(t, c.Agent)

	c.DockerStop()
	st, _, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "exited" || st.ExitCode != 0 {
		t.Errorf("agent container after docker stop: %s, exit %d; want exited with 0 (so --restart=on-failure leaves it be)", st.Status, st.ExitCode)
	}
	for name, f := range facts {
		if d := inspect(t, f.id); !d.State.Running {
			t.Errorf("task container %s is %s after docker stop of the agent, want running", name, d.State.Status)
		}
	}

	c.DockerRemove()
	c.Run(line)
	checkAdopted(t, c.Agent, "web.json", task, facts, ids)
}

// getJSON decodes the 200 answer of url.
func getJSON[T any](t *testing.T, url string) T {
	t.Helper()
	var v T
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: decode: %v: %s", url, err, body)
	}
	return v
}
