package harness

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The agent's own image, built once per test process from the binary the
// tests run.
var (
	imageOnce sync.Once
	imageTag  string
	imageErr  error
)

// AgentImage builds the agent's container image the way `make image` does
// (hack/build-agent-image.sh, config/Dockerfile) from the tests' binary,
// once per process, under a tag of its own; Main removes it. It fails tb
// when the build fails.
func AgentImage(tb testing.TB) string {
	tb.Helper()
	bin := Binary(tb)
	imageOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			imageErr = err
			return
		}
		tag := "ecs-agent-e2e:" + randomHex(4)
		cmd := exec.Command(filepath.Join(root, "hack", "build-agent-image.sh"), tag, bin)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			imageErr = fmt.Errorf("hack/build-agent-image.sh %s: %v\n%s", tag, err, out)
			return
		}
		imageTag = tag
	})
	if imageErr != nil {
		tb.Fatalf("build the agent's image: %v", imageErr)
	}
	return imageTag
}

func removeAgentImage() {
	if imageTag != "" {
		_, _ = docker("rmi", "-f", imageTag)
	}
}

// DockerSocketDir is the host's /var/run: run lines mount it for the
// Docker socket, so the tests use the real one.
const DockerSocketDir = "/var/run"

// ContainerAgent is the agent run from its image by a `docker run` line, as
// an operator runs it. It has an Agent's directory, ports and cluster (so
// WaitTask, CLI and URL work on the host as for any agent), plus stand-ins
// for the host directories a run line mounts: EtcDir for /etc/ecs (with
// ecs.config and tasks.d), LogDir for /var/log/ecs and DataDir for
// /var/lib/ecs/data. /var/run is the host's own: it holds the Docker socket.
type ContainerAgent struct {
	*Agent
	Image string
	// Name replaces the run line's --name, so that agents of parallel tests
	// (and developers) never collide.
	Name   string
	EtcDir string
	LogDir string
}

// NewContainer prepares a container agent of image without starting it: its
// directories, and an ecs.config (EnvFile) with the agent's settings. The
// container is removed when the test ends, before the cluster's containers.
func NewContainer(tb testing.TB, image string, opts Options) *ContainerAgent {
	tb.Helper()
	a := New(tb, opts)
	c := &ContainerAgent{
		Agent:  a,
		Image:  image,
		Name:   "ecs-agent-" + a.Cluster,
		EtcDir: filepath.Join(a.Dir, "etc-ecs"),
		LogDir: filepath.Join(a.Dir, "var-log-ecs"),
	}
	// The agent in the container reads its default static tasks directory,
	// /etc/ecs/tasks.d; its log file is wherever the run line's ECS_LOGFILE
	// puts it under /log (the README: ecs-agent.log).
	a.TasksDir = filepath.Join(c.EtcDir, "tasks.d")
	a.LogPath = filepath.Join(c.LogDir, "ecs-agent.log")
	for _, d := range []string{a.TasksDir, c.LogDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatalf("container agent dir: %v", err)
		}
	}
	env := append(a.settings(), "ECS_INTROSPECTION_PORT="+strconv.Itoa(a.IntrospectionPort))
	env = append(env, opts.Env...)
	if err := os.WriteFile(c.EnvFile(), []byte(strings.Join(env, "\n")+"\n"), 0o600); err != nil {
		tb.Fatalf("write %s: %v", c.EnvFile(), err)
	}
	tb.Cleanup(c.remove)
	return c
}

// EnvFile is the stand-in for /etc/ecs/ecs.config.
func (c *ContainerAgent) EnvFile() string { return filepath.Join(c.EtcDir, "ecs.config") }

// Run runs line, a `docker run` command line as an operator types it (words
// as the shell splits them, "docker" first), with this agent's name, image
// and stand-in host paths in place of the line's, and waits until the agent
// answers /readyz on the host. It fails the test on a line it cannot map.
func (c *ContainerAgent) Run(line []string) {
	c.tb.Helper()
	args, err := c.runArgs(line)
	if err != nil {
		c.tb.Fatalf("docker run line %q: %v", strings.Join(line, " "), err)
	}
	if _, err := docker(args...); err != nil {
		c.tb.Fatalf("start the agent container: %v", err)
	}
	c.WaitReady(60 * time.Second)
}

// RunToEnd runs line, a `docker run` command line that runs the image
// once (such as the README's `… setup-host`), mapped as Run maps it, waits
// for the container to exit and returns what it wrote, stdout and stderr.
func (c *ContainerAgent) RunToEnd(line []string) (string, error) {
	args, err := c.runArgs(line)
	if err != nil {
		return "", fmt.Errorf("docker run line %q: %w", strings.Join(line, " "), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// runArgs maps a run line onto this agent. The first word that is neither
// a flag nor a flag's value is the image; the words after it, the
// command's arguments, stay as they are.
func (c *ContainerAgent) runArgs(line []string) ([]string, error) {
	if len(line) < 3 || line[0] != "docker" || line[1] != "run" {
		return nil, fmt.Errorf("not a `docker run IMAGE` line")
	}
	args := []string{"run"}
	words := line[2:]
	for i := 0; i < len(words); i++ {
		if !strings.HasPrefix(words[i], "-") {
			return append(append(args, c.Image), words[i+1:]...), nil
		}
		flag, value, joined := strings.Cut(words[i], "=")
		if !joined && valueFlags[flag] {
			if i+1 == len(words) {
				return nil, fmt.Errorf("%s without a value", flag)
			}
			i++
			value = words[i]
		} else if !joined {
			args = append(args, words[i])
			continue
		}
		switch flag {
		case "--name":
			value = c.Name
		case "--volume", "-v":
			host, inside, ok := strings.Cut(value, ":")
			if !ok {
				return nil, fmt.Errorf("volume %q is not HOST:CONTAINER", value)
			}
			mapped, err := c.hostPath(host)
			if err != nil {
				return nil, err
			}
			value = mapped + ":" + inside
		case "--env-file":
			mapped, err := c.hostPath(value)
			if err != nil {
				return nil, err
			}
			value = mapped
		}
		args = append(args, flag+"="+value)
	}
	return nil, fmt.Errorf("no image")
}

// valueFlags are the docker run flags a run line may give a value as the
// next word.
var valueFlags = map[string]bool{"--name": true, "--volume": true, "-v": true, "--env-file": true, "--env": true, "-e": true,
	"--restart": true, "--net": true, "--network": true, "--cap-add": true, "--security-opt": true}

// hostPath is the stand-in for a host path of a run line.
func (c *ContainerAgent) hostPath(p string) (string, error) {
	p = filepath.Clean(p)
	for _, m := range []struct{ host, standIn string }{
		{"/etc/ecs", c.EtcDir},
		{"/var/log/ecs", c.LogDir},
		{"/var/lib/ecs/data", c.DataDir},
		{DockerSocketDir, DockerSocketDir},
	} {
		if p == m.host || strings.HasPrefix(p, m.host+"/") {
			return m.standIn + strings.TrimPrefix(p, m.host), nil
		}
	}
	return "", fmt.Errorf("host path %s has no stand-in in the test (known: /etc/ecs, /var/log/ecs, /var/lib/ecs/data, /var/run)", p)
}

// WaitReady waits until /readyz answers 200 on the host, failing at once
// with the container's log if the container exits for good.
func (c *ContainerAgent) WaitReady(timeout time.Duration) {
	c.tb.Helper()
	url := c.URL("/readyz")
	client := &http.Client{Timeout: time.Second}
	WaitFor(c.tb, "agent container ready at "+url, timeout, func() (bool, string) {
		st, ok, err := c.State()
		switch {
		case err != nil:
			return false, err.Error()
		case !ok:
			c.tb.Fatalf("agent container %s is gone", c.Name)
		case !st.Running && st.Status == "exited":
			c.tb.Fatalf("agent container %s exited with status %d:\n%s", c.Name, st.ExitCode, c.Logs(40))
		}
		resp, err := client.Get(url)
		if err != nil {
			return false, fmt.Sprintf("container %s: %v", st.Status, err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Sprintf("container %s: /readyz %d", st.Status, resp.StatusCode)
	})
}

// State is what Docker says of the agent's container; ok is false when there
// is none.
func (c *ContainerAgent) State() (DockerState, bool, error) {
	d, ok, err := Inspect(c.Name)
	return d.State, ok, err
}

// DockerStop stops the agent's container as `docker stop` does: SIGTERM,
// then SIGKILL after 30 seconds.
func (c *ContainerAgent) DockerStop() {
	c.tb.Helper()
	if _, err := docker("stop", "--time", "30", c.Name); err != nil {
		c.tb.Fatalf("docker stop the agent: %v", err)
	}
}

// DockerRemove removes the (stopped) agent container, so that the same run
// line can run again.
func (c *ContainerAgent) DockerRemove() {
	c.tb.Helper()
	if _, err := docker("rm", c.Name); err != nil {
		c.tb.Fatalf("docker rm the agent: %v", err)
	}
}

// Exec runs the image's ecs-agent with args inside the agent's container,
// with the container's environment, and returns its output.
func (c *ContainerAgent) Exec(args ...string) ([]byte, error) {
	return docker(append([]string{"exec", c.Name, "/ecs-agent"}, args...)...)
}

// Logs returns the last n lines of the container's own output.
func (c *ContainerAgent) Logs(n int) string {
	out, err := exec.Command("docker", "logs", "--tail", strconv.Itoa(n), c.Name).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(docker logs %s: %v: %s)", c.Name, err, out)
	}
	return string(out)
}

func (c *ContainerAgent) remove() {
	if _, ok, _ := c.State(); !ok {
		return
	}
	if c.tb.Failed() {
		c.tb.Logf("agent container %s output:\n%s", c.Name, c.Logs(60))
	}
	if _, err := docker("rm", "-f", c.Name); err != nil {
		c.tb.Errorf("remove the agent container: %v", err)
	}
}
