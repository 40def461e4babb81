package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// readmeRunLines are the `docker run` lines of the README's "Running as a
// container", each split into words as the shell would (they have no
// quotes).
func readmeRunLines(t *testing.T) [][]string {
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
	section, _, _ = strings.Cut(section, "\n## ")
	var lines [][]string
	for _, rest := range strings.Split(section, "\ndocker run ")[1:] {
		var joined strings.Builder
		joined.WriteString("docker run ")
		for _, l := range strings.Split(rest, "\n") {
			more := strings.HasSuffix(l, `\`)
			joined.WriteString(strings.TrimSuffix(l, `\`) + " ")
			if !more {
				break
			}
		}
		if strings.ContainsAny(joined.String(), `'"$`) {
			t.Fatalf("a README run line has quotes or variables, which this test does not expand: %s", joined.String())
		}
		lines = append(lines, strings.Fields(joined.String()))
	}
	return lines
}

// readmeRunLine is the README's `docker run` line whose last word is the
// image, the agent's run line; with args, the line that ends with the
// image and args instead (`setup-host`, `setup-host --undo`).
func readmeRunLine(t *testing.T, args ...string) []string {
	t.Helper()
	for _, line := range readmeRunLines(t) {
		if i := len(line) - 1 - len(args); strings.HasPrefix(line[i], "ecs-agent:") && slices.Equal(line[i+1:], args) {
			return line
		}
	}
	t.Fatalf(`README.md "Running as a container" has no docker run line ending with ecs-agent:<version> %s`, strings.Join(args, " "))
	return nil
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

// The README's setup-host line installs, from the agent's image, the very
// rules and sysctl that the host's own `ecs-agent setup-host` installs, and
// its `setup-host --undo` line takes them all back: the image carries the
// build host's iptables (so the host's backend), and the line gives it the
// host's network, NET_ADMIN and a writable /proc/sys.
func TestReadmeSetupHostLinesWorkFromTheImage(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("iptables"); err != nil {
		t.Skip("no iptables on this host, so the agent's image has none either (hack/build-agent-image.sh warns)")
	}
	install, undo := readmeRunLine(t, "setup-host"), readmeRunLine(t, "setup-host", "--undo")
	c := h.NewContainer(t, h.AgentImage(t), h.Options{})
	h.LockHostRules(t)
	// Whatever fails below, the host's binary takes the rules back: it
	// works on the same tables as the image's iptables.
	t.Cleanup(func() {
		if out, err := c.RunSetupHost(nil, "--undo"); err != nil {
			t.Errorf("cleanup: ecs-agent setup-host --undo: %v\n%s", err, out)
		}
	})
	// The localhost rule is shared by every agent's setup: wait until no
	// other process on this machine has it, as this test removes it.
	h.WaitFor(t, "no agent's host rules on this host", 2*time.Minute, func() (bool, string) {
		r := agentRules(t, c.Agent)
		return len(r) == 0, strings.Join(r, "\n")
	})
	defaultLocalnet := readSysctl(t, "net/ipv4/conf/default/route_localnet")

	out, err := c.RunSetupHost(nil)
	if err != nil {
		t.Fatalf("ecs-agent setup-host on the host: %v\n%s", err, out)
	}
	want := agentRules(t, c.Agent)
	if len(want) == 0 {
		t.Fatalf("ecs-agent setup-host on the host installed none of the agent's rules:\n%s", out)
	}
	if out, err := c.RunSetupHost(nil, "--undo"); err != nil {
		t.Fatalf("ecs-agent setup-host --undo on the host: %v\n%s", err, out)
	}
	if left := agentRules(t, c.Agent); len(left) != 0 {
		t.Fatalf("rules left after ecs-agent setup-host --undo on the host:\n%s", strings.Join(left, "\n"))
	}

	out, err = c.RunToEnd(install)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(install, " "), err, out)
	}
	t.Logf("%s:\n%s", strings.Join(install, " "), out)
	if got := agentRules(t, c.Agent); !slices.Equal(got, want) {
		t.Errorf("rules after setup-host from the image:\n%s\nwant those of setup-host on the host:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := readSysctl(t, "net/ipv4/conf/all/route_localnet"); got != "1" {
		t.Errorf("net.ipv4.conf.all.route_localnet after setup-host from the image = %s, want 1", got)
	}

	out, err = c.RunToEnd(undo)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(undo, " "), err, out)
	}
	t.Logf("%s:\n%s", strings.Join(undo, " "), out)
	if left := agentRules(t, c.Agent); len(left) != 0 {
		t.Errorf("rules left after setup-host --undo from the image:\n%s", strings.Join(left, "\n"))
	}
	if got := readSysctl(t, "net/ipv4/conf/all/route_localnet"); got != defaultLocalnet {
		t.Errorf("net.ipv4.conf.all.route_localnet after setup-host --undo from the image = %s, want the default %s", got, defaultLocalnet)
	}
}

// agentRules are the host's rules of a's setup-host, as the host's
// `iptables -S` (filter and nat) and `ip6tables -S` show them: those that
// name a's metadata or introspection port, and the localhost rule, which
// names neither.
func agentRules(t *testing.T, a *h.Agent) []string {
	t.Helper()
	meta, intro := strconv.Itoa(a.MetadataPort), strconv.Itoa(a.IntrospectionPort)
	var rules []string
	for _, cmd := range [][]string{{"iptables", "-S"}, {"iptables", "-t", "nat", "-S"}, {"ip6tables", "-S"}} {
		if _, err := exec.LookPath(cmd[0]); err != nil && cmd[0] == "ip6tables" {
			continue // setup-host leaves IPv6 alone then
		}
		out, err := exec.Command(cmd[0], cmd[1:]...).Output()
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(cmd, " "), err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "--to-destination 127.0.0.1:"+meta) || strings.HasSuffix(l, "--to-ports "+meta) ||
				strings.Contains(l, "--dport "+intro+" ") ||
				(strings.Contains(l, "-d 127.0.0.0/8") && strings.Contains(l, "--ctstate RELATED,ESTABLISHED,DNAT")) {
				rules = append(rules, strings.Join(cmd, " ")+": "+l)
			}
		}
	}
	return rules
}

// readSysctl reads key, a path under /proc/sys.
func readSysctl(t *testing.T, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc/sys", key))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
