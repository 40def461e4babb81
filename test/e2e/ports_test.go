package e2e

import (
	"strconv"
	"strings"
	"testing"

	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

func TestDynamicHostPortServesHTTPFromTheConfiguredRange(t *testing.T) {
	t.Parallel()
	a := h.Start(t, h.Options{})
	a.WriteTask("api.json", h.Task("api", h.App("web", "serve", "8080").Port(8080, 0)).JSON())

	task := a.WaitTask(t, "api.json", startTimeout, h.IsRunning)
	web := h.Container(t, task, "web")
	// Docker 20.10 binds IPv4 and IPv6 (0.0.0.0 and ::): one binding per
	// address, all on the same host port.
	if len(web.Ports) == 0 {
		t.Fatalf("web has no port bindings, want 8080 bound")
	}
	hostPort := int(web.Ports[0].HostPort)
	for _, p := range web.Ports {
		if p.ContainerPort != 8080 || p.Protocol != "tcp" || int(p.HostPort) != hostPort {
			t.Errorf("binding %+v, want containerPort 8080 tcp on host port %d", p, hostPort)
		}
	}
	lo, hi := portRange(t, a.PortRange)
	if hostPort < lo || hostPort > hi {
		t.Errorf("host port %d outside ECS_DYNAMIC_HOST_PORT_RANGE %s", hostPort, a.PortRange)
	}

	h.WaitHTTP(t, hostPort)

	d := inspect(t, web.DockerID)
	bound := d.NetworkSettings.Ports["8080/tcp"]
	if len(bound) == 0 || bound[0].HostPort != strconv.Itoa(hostPort) {
		t.Errorf("docker binds 8080/tcp to %+v, want host port %d", bound, hostPort)
	}

	v1, err := a.V1Tasks()
	if err != nil {
		t.Fatal(err)
	}
	var v1Ports []h.IntrospectionPort
	for _, vt := range v1.Tasks {
		for _, c := range vt.Containers {
			if c.DockerID == web.DockerID {
				v1Ports = c.Ports
			}
		}
	}
	if len(v1Ports) == 0 {
		t.Errorf("/v1/tasks has no ports for the web container: %+v", v1)
	}
	for _, p := range v1Ports {
		if p.ContainerPort != 8080 || p.Protocol != "tcp" || p.HostPort != hostPort {
			t.Errorf("/v1/tasks port %+v, want ContainerPort 8080 tcp HostPort %d", p, hostPort)
		}
	}
}

// portRange parses "start-end".
func portRange(t *testing.T, r string) (int, int) {
	t.Helper()
	lo, hi, ok := strings.Cut(r, "-")
	l, err1 := strconv.Atoi(lo)
	u, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("bad port range %q", r)
	}
	return l, u
}
