package chaos

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// privateDockerd is a Docker daemon of the test's own: its own socket,
// data root, exec root, pidfile and containerd (its own root, state and
// socket), a bridge of its own and no iptables rules, so that killing it
// never touches the shared daemon or the host's firewall. The bridge is an
// interface the test makes, never --bridge=none: a dockerd told to have no
// bridge deletes the host's docker0 at start-up, the shared daemon's. It
// runs with
// live-restore, so that its containers outlive it as they do on a host
// set up for the agent. The containerd is started apart from dockerd, as
// systemd starts it: a containerd that dockerd supervises dies with it.
type privateDockerd struct {
	t         *testing.T
	dir       string
	sock      string
	ns        string
	cmd       *exec.Cmd
	done      chan struct{}
	ctd       *exec.Cmd
	ctdDone   chan struct{}
	ctdSocket string
	// bridge is the daemon's own bridge interface.
	bridge string
}

// startPrivateDockerd starts the daemon, or skips the test, saying why, when
// it cannot start here.
func startPrivateDockerd(t *testing.T) *privateDockerd {
	t.Helper()
	if _, err := exec.LookPath("dockerd"); err != nil {
		t.Skip("no dockerd on PATH: the private-daemon scenario needs one")
	}
	dir, err := os.MkdirTemp("", "ecs-chaos-dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &privateDockerd{t: t, dir: dir, sock: filepath.Join(dir, "d.sock"), ctdSocket: filepath.Join(dir, "ctd.sock"),
		ns: "ecs-chaos-" + filepath.Base(dir)[len("ecs-chaos-dockerd-"):]}
	t.Cleanup(d.remove)
	if err := d.makeBridge(); err != nil {
		t.Skipf("no bridge of its own for a private dockerd: %v", err)
	}
	if err := d.startContainerd(); err != nil {
		t.Skipf("a private containerd cannot start here: %v", err)
	}
	if err := d.start(); err != nil {
		t.Skipf("a private dockerd cannot start here: %v", err)
	}
	return d
}

// makeBridge creates the daemon's bridge, named after the test's directory,
// on a /24 of 10.241.0.0/16 that no route of the host uses yet.
func (d *privateDockerd) makeBridge() error {
	routes, err := exec.Command("ip", "-4", "route").Output()
	if err != nil {
		return fmt.Errorf("ip -4 route: %w", err)
	}
	suffix := filepath.Base(d.dir)[len("ecs-chaos-dockerd-"):]
	name := "chaos" + suffix
	if len(name) > 15 {
		name = name[:15] // IFNAMSIZ
	}
	for octet := 1; octet < 255; octet++ {
		subnet := fmt.Sprintf("10.241.%d.", octet)
		if strings.Contains(string(routes), subnet) {
			continue
		}
		for _, args := range [][]string{
			{"link", "add", "name", name, "type", "bridge"},
			{"addr", "add", subnet + "1/24", "dev", name},
			{"link", "set", name, "up"},
		} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				exec.Command("ip", "link", "del", name).Run()
				return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
			}
		}
		d.bridge = name
		return nil
	}
	return fmt.Errorf("every /24 of 10.241.0.0/16 is routed already")
}

// containerdConfig leaves out the CRI plugin (Kubernetes' runtime API),
// which the test has no use for and which would want its own directories.
const containerdConfig = `version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
`

// startContainerd starts the daemon's containerd and waits for its socket.
func (d *privateDockerd) startContainerd() error {
	if _, err := exec.LookPath("containerd"); err != nil {
		return fmt.Errorf("no containerd on PATH")
	}
	conf := filepath.Join(d.dir, "containerd.toml")
	if err := os.WriteFile(conf, []byte(containerdConfig), 0o600); err != nil {
		return err
	}
	log, err := os.OpenFile(filepath.Join(d.dir, "containerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	d.ctd = exec.Command("containerd", "--config", conf, "--address", d.ctdSocket,
		"--root", filepath.Join(d.dir, "ctd-root"), "--state", filepath.Join(d.dir, "ctd-state"), "--log-level", "warn")
	d.ctd.Stdout, d.ctd.Stderr = log, log
	if err := d.ctd.Start(); err != nil {
		log.Close()
		return err
	}
	done := make(chan struct{})
	d.ctdDone = done
	go func() { d.ctd.Wait(); log.Close(); close(done) }()
	return waitUp("containerd at "+d.ctdSocket, done, func() bool {
		_, err := os.Stat(d.ctdSocket)
		return err == nil
	})
}

// start runs dockerd and waits until it answers.
func (d *privateDockerd) start() error {
	log, err := os.OpenFile(filepath.Join(d.dir, "dockerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	d.cmd = exec.Command("dockerd",
		"--config-file", filepath.Join(d.dir, "daemon.json"),
		"--host", "unix://"+d.sock,
		"--data-root", filepath.Join(d.dir, "data"),
		"--exec-root", filepath.Join(d.dir, "exec"),
		"--pidfile", filepath.Join(d.dir, "dockerd.pid"),
		"--containerd", d.ctdSocket,
		"--containerd-namespace", d.ns,
		"--containerd-plugins-namespace", d.ns+"-plugins",
		"--bridge", d.bridge, "--iptables=false", "--ip-masq=false", "--ip-forward=false",
		"--live-restore", "--log-level", "warn")
	d.cmd.Stdout, d.cmd.Stderr = log, log
	if err := d.cmd.Start(); err != nil {
		log.Close()
		return err
	}
	done := make(chan struct{})
	d.done = done
	go func() { d.cmd.Wait(); log.Close(); close(done) }()
	if err := waitUp("dockerd at "+d.sock, done, func() bool {
		_, err := d.docker("version", "--format", "{{.Server.Version}}")
		return err == nil
	}); err != nil {
		return fmt.Errorf("%w: %s", err, d.logTail())
	}
	return nil
}

// waitUp polls up until it holds, for at most 30 s, and gives up at once
// if the process exits (done closes). Not testwait.For: a daemon that
// cannot start skips the test rather than failing it.
func waitUp(what string, done <-chan struct{}, up func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for !up() {
		select {
		case <-done:
			return fmt.Errorf("%s exited before it answered", what)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s within 30s", what)
		}
	}
	return nil
}

// kill SIGKILLs the daemon, as a crash would.
func (d *privateDockerd) kill() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		d.t.Fatalf("kill the private dockerd: %v", err)
	}
	<-d.done
}

func (d *privateDockerd) docker(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", append([]string{"--host", "unix://" + d.sock}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// load copies an image from the shared daemon, which has the test images.
func (d *privateDockerd) load(image string) {
	d.t.Helper()
	save := exec.Command("docker", "save", image)
	load := exec.Command("docker", "--host", "unix://"+d.sock, "load", "--quiet")
	pipe, err := save.StdoutPipe()
	if err != nil {
		d.t.Fatal(err)
	}
	load.Stdin = pipe
	if err := save.Start(); err != nil {
		d.t.Fatalf("docker save %s: %v", image, err)
	}
	if out, err := load.CombinedOutput(); err != nil {
		d.t.Fatalf("load %s into the private dockerd: %v: %s", image, err, out)
	}
	if err := save.Wait(); err != nil {
		d.t.Fatalf("docker save %s: %v", image, err)
	}
}

func (d *privateDockerd) logTail() string {
	data, _ := os.ReadFile(filepath.Join(d.dir, "dockerd.log"))
	if len(data) > 1500 {
		data = data[len(data)-1500:]
	}
	return string(data)
}

// remove removes the daemon's containers, stops it, and deletes its
// directories; live-restore would otherwise leave the containers running.
func (d *privateDockerd) remove() {
	if d.cmd != nil && d.cmd.Process != nil {
		select {
		case <-d.done:
		default:
			if ids, err := d.docker("ps", "-aq"); err == nil && len(bytes.TrimSpace(ids)) > 0 {
				if _, err := d.docker(append([]string{"rm", "-f", "-v"}, strings.Fields(string(ids))...)...); err != nil {
					d.t.Errorf("remove the private dockerd's containers: %v", err)
				}
			}
			d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-d.done:
			case <-time.After(30 * time.Second):
				d.cmd.Process.Kill()
				<-d.done
			}
		}
	}
	if d.ctd != nil && d.ctd.Process != nil {
		d.ctd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.ctdDone:
		case <-time.After(30 * time.Second):
			d.ctd.Process.Kill()
			<-d.ctdDone
		}
	}
	if d.bridge != "" {
		if out, err := exec.Command("ip", "link", "del", d.bridge).CombinedOutput(); err != nil {
			d.t.Errorf("delete the private dockerd's bridge %s: %v: %s", d.bridge, err, out)
		}
	}
	if d.t.Failed() {
		d.t.Logf("private dockerd log (%s):\n%s", d.dir, d.logTail())
		return
	}
	unmountUnder(d.dir)
	os.RemoveAll(d.dir)
}

// unmountUnder detaches what dockerd left mounted under dir (it bind-mounts
// its data root onto itself and leaves it so), deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
			points = append(points, f[1])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

func TestAgentOutlivesAKilledDockerdAndConvergesWithin10sOfItsReturn(t *testing.T) {
	const tasks = 20
	d := startPrivateDockerd(t)
	d.load(h.TestImage)
	a := h.New(t, h.Options{Env: []string{"DOCKER_HOST=unix://" + d.sock}})
	task := func(i int) string {
		def := h.Task(fmt.Sprintf("chaos-d%02d", i), h.App("app", "sleep"))
		return def.JSON()
	}
	for i := 0; i < tasks; i++ {
		a.WriteTask(fmt.Sprintf("d%02d.json", i), task(i))
	}
	a.Start()
	before := map[string]string{}
	for i := 0; i < tasks; i++ {
		name := fmt.Sprintf("d%02d.json", i)
		before[name] = h.Container(t, a.WaitTask(t, name, 120*time.Second, h.IsRunning), "app").DockerID
	}

	d.kill()
	// While the daemon is away, one task goes and one comes: the agent
	// owes Docker work the moment it is back.
	a.RemoveTask("d00.json")
	a.WriteTask("d99.json", task(99))
	a.WaitFor(t, "the agent to notice the daemon is gone", 30*time.Second, func() (bool, string) {
		tasks, err := a.Tasks()
		if err != nil {
			return false, err.Error()
		}
		_, seen := firstOf(tasks, "d99.json")
		return seen, "no task for d99.json yet"
	})
	if !a.Running() {
		t.Fatalf("the agent exited while dockerd was down:\n%s", a.LogTail(30))
	}

	if err := d.start(); err != nil {
		t.Fatalf("restart the private dockerd: %v", err)
	}
	back := time.Now()
	a.WaitFor(t, "convergence after the daemon's return", 10*time.Second, func() (bool, string) {
		list, err := a.Tasks()
		if err != nil {
			return false, err.Error()
		}
		for i := 1; i < tasks; i++ {
			name := fmt.Sprintf("d%02d.json", i)
			t, ok := firstOf(list, name)
			if !ok {
				return false, "no task for " + name
			}
			if ok, why := h.IsRunning(t); !ok {
				return false, why
			}
		}
		if t, ok := firstOf(list, "d99.json"); !ok || t.Status.KnownStatus != apiv1.StatusRunning {
			return false, "d99.json: " + h.Describe(t)
		}
		if t, ok := firstOf(list, "d00.json"); ok && t.Status.KnownStatus != apiv1.StatusStopped {
			return false, "d00.json (removed): " + h.Describe(t)
		}
		return true, ""
	})
	t.Logf("converged %v after the private dockerd answered again", time.Since(back).Round(10*time.Millisecond))

	list, err := a.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < tasks; i++ {
		name := fmt.Sprintf("d%02d.json", i)
		tk, _ := firstOf(list, name)
		if got := h.Container(t, tk, "app").DockerID; got != before[name] {
			t.Errorf("%s runs container %.12s after the daemon's restart, want the same %.12s (live-restore kept it)", name, got, before[name])
		}
	}
	out, err := d.docker("ps", "-q", "--filter", "label="+h.LabelCluster+"="+a.Cluster)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(string(out))); n != tasks {
		t.Errorf("%d running containers on the private daemon, want %d (19 kept and d99's)", n, tasks)
	}
}

// firstOf is the newest task of a static file.
func firstOf(tasks []apiv1.Task, file string) (apiv1.Task, bool) {
	mine := h.TasksOf(tasks, file)
	if len(mine) == 0 {
		return apiv1.Task{}, false
	}
	return mine[len(mine)-1], true
}
