package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// settingsInspect is what `docker inspect` says of the settings the
// container definition's Linux, network and terminal fields control.
type settingsInspect struct {
	Name   string
	Config struct {
		Image           string
		Hostname        string
		OpenStdin, Tty  bool
		NetworkDisabled bool
		StopTimeout     *int
		Entrypoint, Cmd []string
	}
	HostConfig struct {
		NetworkMode, PidMode, IpcMode string
		CgroupParent                  string
		Privileged                    bool
		Links, ExtraHosts, Dns        []string
		DNSSearch                     []string `json:"DnsSearch"`
		SecurityOpt, CapAdd, CapDrop  []string
		Sysctls                       map[string]string
		Devices                       []struct{ PathOnHost, PathInContainer, CgroupPermissions string }
		Init                          *bool
		ShmSize                       int64
		Tmpfs                         map[string]string
		CPUShares                     int64 `json:"CpuShares"`
		Memory, MemoryReservation     int64
		MemorySwap                    int64
		MemorySwappiness              *int64
		LogConfig                     struct {
			Type   string
			Config map[string]string
		}
	}
}

func inspectSettings(t *testing.T, id string) settingsInspect {
	t.Helper()
	out, err := exec.Command("docker", "container", "inspect", id).Output()
	if err != nil {
		t.Fatalf("docker inspect %s: %v", id, err)
	}
	var cs []settingsInspect
	if err := json.Unmarshal(out, &cs); err != nil || len(cs) != 1 {
		t.Fatalf("decode docker inspect %s: %v", id, err)
	}
	return cs[0]
}

// inContainer prints a file as the running container sees it (the test
// image has no shell: testapp cat).
func inContainer(t *testing.T, id, path string) string {
	t.Helper()
	out, err := exec.Command("docker", "exec", id, "/testapp", "cat", path).CombinedOutput()
	if err != nil {
		t.Fatalf("docker exec %s cat %s: %v: %s", id, path, err, out)
	}
	return string(out)
}

// statusField is a "Name:\tvalue" line of /proc/<pid>/status.
func statusField(status, name string) string {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Capability bits (linux/capability.h).
const (
	capNetRaw   = 13
	capSysAdmin = 21
	capPtrace   = 19
)

// TestLinuxAndNetworkSettingsReachDocker runs one bridge-mode task whose
// main container sets every Linux, name-resolution, security, kernel,
// terminal, logging and resource field a definition has, and checks each in
// docker inspect and, where the container can see it, inside the container.
func TestLinuxAndNetworkSettingsReachDocker(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	udpPort := freeUDPPort(t)
	a.WriteTask("settings.json", fmt.Sprintf(`{
  "family": "settings",
  "containerDefinitions": [
    {"name": "db", "image": %[1]q, "command": ["udp", "5353"], "memory": 32, "essential": false,
      "portMappings": [{"containerPort": 5353, "hostPort": %[2]d, "protocol": "udp"}]},
    {
      "name": "app", "image": %[1]q, "entryPoint": ["/testapp"], "command": ["sleep"],
      "cpu": 128, "memory": 64, "memoryReservation": 32, "stopTimeout": 7,
      "links": ["db:database"],
      "hostname": "apphost",
      "extraHosts": [{"hostname": "extra.test", "ipAddress": "10.1.2.3"}],
      "dnsServers": ["10.9.9.9"], "dnsSearchDomains": ["search.test"],
      "dockerSecurityOptions": ["no-new-privileges"],
      "systemControls": [{"namespace": "net.core.somaxconn", "value": "512"}, {"namespace": "kernel.shmmax", "value": "65536"}],
      "interactive": true, "pseudoTerminal": true,
      "logConfiguration": {"logDriver": "json-file", "options": {"max-size": "1m", "max-file": "2"}},
      "linuxParameters": {
        "capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]},
        "devices": [{"hostPath": "/dev/null", "containerPath": "/dev/mynull", "permissions": ["read", "write"]}],
        "initProcessEnabled": true,
        "sharedMemorySize": 32,
        "tmpfs": [{"containerPath": "/scratch", "size": 8, "mountOptions": ["noexec", "mode=1777"]}],
        "maxSwap": 32, "swappiness": 10
      }
    }
  ]
}`, h.TestImage, udpPort))
	task := a.WaitTask(t, "settings.json", startTimeout, h.IsRunning)
	app := h.Container(t, task, "app").DockerID
	db := h.Container(t, task, "db")
	c := inspectSettings(t, app)

	t.Run("docker inspect", func(t *testing.T) {
		hc := c.HostConfig
		checks := []struct {
			field     string
			got, want any
		}{
			{"hostname", c.Config.Hostname, "apphost"},
			{"interactive", c.Config.OpenStdin, true},
			{"pseudoTerminal", c.Config.Tty, true},
			{"stopTimeout", fmt.Sprint(deref(c.Config.StopTimeout)), "7"},
			{"entryPoint, command", fmt.Sprint(c.Config.Entrypoint, c.Config.Cmd), "[/testapp] [sleep]"},
			{"links", fmt.Sprint(hc.Links), fmt.Sprintf("[/%s:%s/database]", db.DockerName, c.Name)},
			{"extraHosts", fmt.Sprint(hc.ExtraHosts), "[extra.test:10.1.2.3]"},
			{"dnsServers", fmt.Sprint(hc.Dns), "[10.9.9.9]"},
			{"dnsSearchDomains", fmt.Sprint(hc.DNSSearch), "[search.test]"},
			{"dockerSecurityOptions", fmt.Sprint(hc.SecurityOpt), "[no-new-privileges]"},
			{"systemControls", fmt.Sprint(hc.Sysctls), "map[kernel.shmmax:65536 net.core.somaxconn:512]"},
			{"capabilities", fmt.Sprint(hc.CapAdd, hc.CapDrop), "[CAP_SYS_PTRACE] [CAP_NET_RAW]"},
			{"devices", fmt.Sprint(hc.Devices), "[{/dev/null /dev/mynull rw}]"},
			{"initProcessEnabled", hc.Init != nil && *hc.Init, true},
			{"sharedMemorySize", hc.ShmSize, int64(32 << 20)},
			{"tmpfs", fmt.Sprint(hc.Tmpfs), "map[/scratch:size=8m,noexec,mode=1777]"},
			{"cpu", hc.CPUShares, int64(128)},
			{"memory, memoryReservation", fmt.Sprint(hc.Memory, hc.MemoryReservation), fmt.Sprint(64<<20, 32<<20)},
			{"maxSwap", hc.MemorySwap, int64(96 << 20)},
			{"swappiness", fmt.Sprint(deref(hc.MemorySwappiness)), "10"},
			{"logConfiguration", fmt.Sprintln(hc.LogConfig.Type, hc.LogConfig.Config), "json-file map[max-file:2 max-size:1m]\n"},
		}
		for _, ck := range checks {
			if fmt.Sprint(ck.got) != fmt.Sprint(ck.want) {
				t.Errorf("%s: docker has %v, want %v", ck.field, ck.got, ck.want)
			}
		}
	})

	t.Run("a static udp host port", func(t *testing.T) {
		if got := fmt.Sprint(db.Ports); !strings.Contains(got, fmt.Sprintf("{5353 %d udp", udpPort)) {
			t.Errorf("db bindings %s, want 5353/udp on host port %d", got, udpPort)
		}
		echoUDP(t, udpPort)
	})

	t.Run("inside the container", func(t *testing.T) {
		hosts := inContainer(t, app, "/etc/hosts")
		if !strings.Contains(hosts, "10.1.2.3\textra.test") || !strings.Contains(hosts, "database") {
			t.Errorf("/etc/hosts lacks the extra host or the link's alias:\n%s", hosts)
		}
		resolv := inContainer(t, app, "/etc/resolv.conf")
		if !strings.Contains(resolv, "nameserver 10.9.9.9") || !strings.Contains(resolv, "search search.test") {
			t.Errorf("/etc/resolv.conf lacks the DNS server or search domain:\n%s", resolv)
		}
		if got := strings.TrimSpace(inContainer(t, app, "/proc/sys/net/core/somaxconn")); got != "512" {
			t.Errorf("net.core.somaxconn = %s, want 512", got)
		}
		if got := strings.TrimSpace(inContainer(t, app, "/etc/hostname")); got != "apphost" {
			t.Errorf("hostname %q, want apphost", got)
		}
		status := inContainer(t, app, "/proc/self/status")
		if got := statusField(status, "NoNewPrivs"); got != "1" {
			t.Errorf("NoNewPrivs = %q, want 1 (no-new-privileges)", got)
		}
		caps, err := strconv.ParseUint(statusField(status, "CapBnd"), 16, 64)
		if err != nil {
			t.Fatalf("CapBnd in %q: %v", status, err)
		}
		if caps&(1<<capNetRaw) != 0 || caps&(1<<capPtrace) == 0 || caps&(1<<capSysAdmin) != 0 {
			t.Errorf("capability bounding set %x: want NET_RAW dropped, SYS_PTRACE added, SYS_ADMIN absent", caps)
		}
		if got := inContainer(t, app, "/proc/1/comm"); !strings.HasPrefix(got, "docker-init") {
			t.Errorf("PID 1 is %q, want docker-init (initProcessEnabled)", got)
		}
		mounts := inContainer(t, app, "/proc/mounts")
		if !mountHas(mounts, "/dev/shm", "size=32768k") || !mountHas(mounts, "/scratch", "noexec", "size=8192k") {
			t.Errorf("/dev/shm of 32 MiB or a noexec /scratch tmpfs of 8 MiB missing:\n%s", mounts)
		}
		if out := inContainer(t, app, "/dev/mynull"); out != "" {
			t.Errorf("/dev/mynull read %q, want the empty host /dev/null", out)
		}
	})
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// echoUDP sends a datagram to the host port and waits for testapp's echo.
func echoUDP(t *testing.T, port int) {
	t.Helper()
	h.WaitFor(t, fmt.Sprintf("an echo from udp port %d", port), 10*time.Second, func() (bool, string) {
		c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return false, err.Error()
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err := c.Write([]byte("ping")); err != nil {
			return false, err.Error()
		}
		buf := make([]byte, 16)
		n, err := c.Read(buf)
		if err != nil {
			return false, err.Error()
		}
		return string(buf[:n]) == "ping", fmt.Sprintf("echo %q", buf[:n])
	})
}

// mountHas reports whether /proc/mounts has a mount at target with every
// option.
func mountHas(mounts, target string, opts ...string) bool {
	for _, line := range strings.Split(mounts, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[1] != target {
			continue
		}
		have := strings.Split(f[3], ",")
		ok := true
		for _, o := range opts {
			ok = ok && contains(have, o)
		}
		if ok {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestHostAndIsolatedNamespaces runs four tasks at once: one in network
// mode host sharing the host's PID and IPC namespaces, one with a
// privileged container, one in network mode none, and one in bridge mode
// with networking disabled and no IPC namespace to share.
func TestHostAndIsolatedNamespaces(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("host.json", fmt.Sprintf(`{
  "family": "hostns", "networkMode": "host", "pidMode": "host", "ipcMode": "host",
  "containerDefinitions": [{"name": "app", "image": %q, "command": ["sleep"], "memory": 32,
    "extraHosts": [{"hostname": "extra.test", "ipAddress": "10.1.2.3"}], "dnsServers": ["10.9.9.9"]}]
}`, h.TestImage))
	a.WriteTask("privileged.json", fmt.Sprintf(`{
  "family": "privileged",
  "containerDefinitions": [
    {"name": "app", "image": %[1]q, "command": ["sleep"], "memory": 32},
    {"name": "root", "image": %[1]q, "command": ["sleep"], "memory": 32, "essential": false, "privileged": true}
  ]
}`, h.TestImage))
	a.WriteTask("none.json", fmt.Sprintf(`{
  "family": "nonens", "networkMode": "none",
  "containerDefinitions": [{"name": "app", "image": %q, "command": ["sleep"], "memory": 32}]
}`, h.TestImage))
	a.WriteTask("isolated.json", fmt.Sprintf(`{
  "family": "isolated", "ipcMode": "none",
  "containerDefinitions": [{"name": "app", "image": %q, "command": ["sleep"], "memory": 32, "disableNetworking": true}]
}`, h.TestImage))

	t.Run("host", func(t *testing.T) {
		task := a.WaitTask(t, "host.json", startTimeout, h.IsRunning)
		id := h.Container(t, task, "app").DockerID
		hc := inspectSettings(t, id).HostConfig
		if hc.NetworkMode != "host" || hc.PidMode != "host" || hc.IpcMode != "host" {
			t.Errorf("network/pid/ipc mode %q/%q/%q, want host/host/host", hc.NetworkMode, hc.PidMode, hc.IpcMode)
		}
		// The host's PID 1 is its init, not the container's testapp.
		if comm := strings.TrimSpace(inContainer(t, id, "/proc/1/comm")); comm == "testapp" {
			t.Errorf("PID 1 is the container's own process; want the host's (pidMode host)")
		}
		if hosts := inContainer(t, id, "/etc/hosts"); !strings.Contains(hosts, "10.1.2.3\textra.test") {
			t.Errorf("/etc/hosts lacks the extra host in network mode host:\n%s", hosts)
		}
		if resolv := inContainer(t, id, "/etc/resolv.conf"); !strings.Contains(resolv, "nameserver 10.9.9.9") {
			t.Errorf("/etc/resolv.conf lacks the DNS server in network mode host:\n%s", resolv)
		}
	})
	t.Run("privileged", func(t *testing.T) {
		task := a.WaitTask(t, "privileged.json", startTimeout, func(task apiv1.Task) (bool, string) {
			root := task.Status.ContainerStatusFor("root")
			return root != nil && (root.KnownStatus == apiv1.StatusRunning || root.KnownStatus == apiv1.StatusStopped), h.Describe(task)
		})
		root := h.Container(t, task, "root")
		if !inspectSettings(t, root.DockerID).HostConfig.Privileged {
			t.Errorf("root is not privileged in docker inspect")
		}
		if root.KnownStatus != apiv1.StatusRunning {
			// Some hosts (this VM among them) lack capabilities a
			// privileged container gets, and runc refuses to start it.
			if !strings.Contains(root.Reason, "unable to apply caps") {
				t.Errorf("privileged container did not run: %s", root.Reason)
			}
			t.Logf("this host cannot run privileged containers: %s", root.Reason)
			return
		}
		if caps := statusField(inContainer(t, root.DockerID, "/proc/self/status"), "CapEff"); !strings.HasSuffix(caps, "ffffffff") {
			t.Errorf("effective capabilities %s, want all of them (privileged)", caps)
		}
	})
	t.Run("none", func(t *testing.T) {
		task := a.WaitTask(t, "none.json", startTimeout, h.IsRunning)
		id := h.Container(t, task, "app").DockerID
		if mode := inspectSettings(t, id).HostConfig.NetworkMode; mode != "none" {
			t.Errorf("network mode %q, want none", mode)
		}
		if ifs := interfaces(inContainer(t, id, "/proc/net/dev")); fmt.Sprint(ifs) != "[lo]" {
			t.Errorf("interfaces %v, want only lo", ifs)
		}
	})
	t.Run("disableNetworking and ipcMode none", func(t *testing.T) {
		task := a.WaitTask(t, "isolated.json", startTimeout, h.IsRunning)
		id := h.Container(t, task, "app").DockerID
		c := inspectSettings(t, id)
		if !c.Config.NetworkDisabled || c.HostConfig.IpcMode != "none" {
			t.Errorf("network disabled %v, ipc mode %q; want true and none", c.Config.NetworkDisabled, c.HostConfig.IpcMode)
		}
		if ifs := interfaces(inContainer(t, id, "/proc/net/dev")); fmt.Sprint(ifs) != "[lo]" {
			t.Errorf("interfaces %v, want only lo", ifs)
		}
		if mountHas(inContainer(t, id, "/proc/mounts"), "/dev/shm") {
			t.Error("/dev/shm is mounted; ipcMode none gives the container none")
		}
	})
}

// interfaces lists the network interfaces of /proc/net/dev.
func interfaces(dev string) []string {
	var out []string
	for _, line := range strings.Split(dev, "\n") {
		name, _, ok := strings.Cut(line, ":")
		if ok && !strings.Contains(name, "|") {
			out = append(out, strings.TrimSpace(name))
		}
	}
	return out
}

// TestTaskNamespacesAreShared: with pidMode and ipcMode "task" the task's
// containers share one PID and one IPC namespace, held by the agent's pause
// container (PID 1 in them); the pause container is not one of the task's
// containers, and goes when the task stops and is cleaned up.
func TestTaskNamespacesAreShared(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{CleanupWait: 2 * time.Second})
	a.WriteTask("shared.json", fmt.Sprintf(`{
  "family": "sharedns", "pidMode": "task", "ipcMode": "task",
  "containerDefinitions": [
    {"name": "one", "image": %[1]q, "command": ["sleep"], "memory": 32},
    {"name": "two", "image": %[1]q, "command": ["sleep"], "memory": 32}
  ]
}`, h.TestImage))
	task := a.WaitTask(t, "shared.json", startTimeout, h.IsRunning)
	if len(task.Status.Containers) != 2 {
		t.Errorf("task has %d containers in its status, want its 2 (the pause container is the agent's)", len(task.Status.Containers))
	}
	ids, err := h.ContainerIDs(h.LabelTaskARN+"="+task.Spec.Arn, h.LabelContainerName+"=~internal~ecs~pause")
	if err != nil || len(ids) != 1 {
		t.Fatalf("pause containers %q (%v), want one", ids, err)
	}
	pauseID := ids[0]
	pausePID := statePID(t, pauseID)
	for _, name := range []string{"one", "two"} {
		id := h.Container(t, task, name).DockerID
		hc := inspectSettings(t, id).HostConfig
		if want := "container:" + pauseID; hc.PidMode != want || hc.IpcMode != want {
			t.Errorf("%s: pid mode %q, ipc mode %q; want both %s", name, hc.PidMode, hc.IpcMode, want)
		}
		if comm := strings.TrimSpace(inContainer(t, id, "/proc/1/comm")); comm != "pause" {
			t.Errorf("%s: PID 1 is %q, want the pause program", name, comm)
		}
		for _, ns := range []string{"pid", "ipc"} {
			if got, want := nsOf(t, statePID(t, id), ns), nsOf(t, pausePID, ns); got != want {
				t.Errorf("%s: %s namespace %s, want the pause container's %s", name, ns, got, want)
			}
		}
	}

	a.RemoveTask("shared.json")
	a.WaitFor(t, "the task's cleanup", startTimeout, func() (bool, string) {
		left, err := h.ContainerIDs(h.LabelTaskARN + "=" + task.Spec.Arn)
		return err == nil && len(left) == 0, fmt.Sprintf("containers %q (%v)", left, err)
	})
}

func statePID(t *testing.T, id string) int {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "--format", "{{.State.Pid}}", id).Output()
	if err != nil {
		t.Fatalf("docker inspect %s: %v", id, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || pid == 0 {
		t.Fatalf("container %s has pid %q", id, out)
	}
	return pid
}

func nsOf(t *testing.T, pid int, ns string) string {
	t.Helper()
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		t.Fatal(err)
	}
	return link
}
