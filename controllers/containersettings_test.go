package controllers

import (
	"reflect"
	"testing"

	"k8s.io/utils/ptr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// TestDefinitionSettingsBecomeDockerSettings specifies, one container
// definition field at a time, the Docker setting it becomes.
func TestDefinitionSettingsBecomeDockerSettings(t *testing.T) {
	type config = dockerstate.CreateConfig
	tests := []struct {
		field string
		set   func(*apiv1.TaskSpec, *apiv1.ContainerSpec)
		want  func(*config)
	}{
		{"nothing set", func(*apiv1.TaskSpec, *apiv1.ContainerSpec) {}, func(*config) {}},
		{"disableNetworking, interactive, pseudoTerminal", func(_ *apiv1.TaskSpec, c *apiv1.ContainerSpec) {
			c.DisableNetworking, c.Interactive, c.PseudoTerminal = true, true, true
		}, func(w *config) { w.NetworkDisabled, w.OpenStdin, w.Tty = true, true, true }},
		{"dnsServers, dnsSearchDomains, extraHosts", func(_ *apiv1.TaskSpec, c *apiv1.ContainerSpec) {
			c.DNSServers, c.DNSSearchDomains = []string{"10.0.0.2"}, []string{"example.com"}
			c.ExtraHosts = []apiv1.HostEntry{{Hostname: "db", IPAddress: "10.0.0.3"}, {Hostname: "v6", IPAddress: "fd00::3"}}
		}, func(w *config) {
			w.DNS, w.DNSSearch = []string{"10.0.0.2"}, []string{"example.com"}
			w.ExtraHosts = []string{"db:10.0.0.3", "v6:fd00::3"}
		}},
		{"links by Docker name, with and without alias", func(_ *apiv1.TaskSpec, c *apiv1.ContainerSpec) {
			c.Links = []string{"init:setup", "init"}
		}, func(w *config) { w.Links = []string{"ecs-fam-3-init-01:setup", "ecs-fam-3-init-01:init"} }},
		{"pidMode and ipcMode host", func(s *apiv1.TaskSpec, _ *apiv1.ContainerSpec) { s.PidMode, s.IpcMode = "host", "host" },
			func(w *config) { w.PidMode, w.IpcMode = "host", "host" }},
		{"ipcMode none", func(s *apiv1.TaskSpec, _ *apiv1.ContainerSpec) { s.IpcMode = "none" }, func(w *config) { w.IpcMode = "none" }},
		{"dockerSecurityOptions in Docker's form", func(_ *apiv1.TaskSpec, c *apiv1.ContainerSpec) {
			c.DockerSecurityOptions = []string{"no-new-privileges", "label:type:spc_t", "apparmor:docker-default"}
		}, func(w *config) {
			w.SecurityOpt = []string{"no-new-privileges", "label=type:spc_t", "apparmor=docker-default"}
		}},
		{"systemControls", func(_ *apiv1.TaskSpec, c *apiv1.ContainerSpec) {
			c.SystemControls = []apiv1.SystemControl{{Namespace: "net.core.somaxconn", Value: "1024"}, {Namespace: "kernel.shmmax", Value: "65536"}}
		}, func(w *config) { w.Sysctls = map[string]string{"net.core.somaxconn": "1024", "kernel.shmmax": "65536"} }},
		{"capabilities, init", func(_ *apiv1.TaskSpec, c *apiv1.ContainerSpec) {
			c.LinuxParameters = &apiv1.LinuxParameters{InitProcessEnabled: true,
				Capabilities: &apiv1.KernelCapabilities{Add: []string{"SYS_PTRACE"}, Drop: []string{"NET_RAW"}}}
		}, func(w *config) { w.Init, w.CapAdd, w.CapDrop = true, []string{"SYS_PTRACE"}, []string{"NET_RAW"} }},
		{"devices: permissions as cgroup flags, the host path by default", func(_ *apiv1.TaskSpec, c *apiv1.ContainerSpec) {
			c.LinuxParameters = &apiv1.LinuxParameters{Devices: []apiv1.Device{
				{HostPath: "/dev/null", ContainerPath: "/dev/mynull", Permissions: []string{"write", "read"}},
				{HostPath: "/dev/zero"},
			}}
		}, func(w *config) {
			w.Devices = []dockerstate.Device{{HostPath: "/dev/null", ContainerPath: "/dev/mynull", Permissions: "rw"}, {HostPath: "/dev/zero", ContainerPath: "/dev/zero", Permissions: "rwm"}}
		}},
		{"sharedMemorySize and tmpfs in MiB", func(_ *apiv1.TaskSpec, c *apiv1.ContainerSpec) {
			c.LinuxParameters = &apiv1.LinuxParameters{SharedMemorySize: ptr.To[int64](32),
				Tmpfs: []apiv1.Tmpfs{{ContainerPath: "/run", Size: 8, MountOptions: []string{"noexec", "mode=1777"}}}}
		}, func(w *config) { w.ShmSize, w.Tmpfs = 32<<20, map[string]string{"/run": "size=8m,noexec,mode=1777"} }},
		{"maxSwap on top of memory, with swappiness", func(_ *apiv1.TaskSpec, c *apiv1.ContainerSpec) {
			c.Memory = ptr.To[int64](64)
			c.LinuxParameters = &apiv1.LinuxParameters{MaxSwap: ptr.To[int64](32), Swappiness: ptr.To[int64](10)}
		}, func(w *config) {
			w.Resources.Memory, w.Resources.MemorySwap, w.Resources.MemorySwappiness = 64<<20, 96<<20, ptr.To[int64](10)
		}},
		{"maxSwap 0: no swap", func(_ *apiv1.TaskSpec, c *apiv1.ContainerSpec) {
			c.Memory = ptr.To[int64](64)
			c.LinuxParameters = &apiv1.LinuxParameters{MaxSwap: ptr.To[int64](0), Swappiness: ptr.To[int64](60)}
		}, func(w *config) {
			w.Resources.Memory, w.Resources.MemorySwap, w.Resources.MemorySwappiness = 64<<20, 64<<20, ptr.To[int64](60)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			run := configRun("")
			run.task.Status.Containers[0].DockerName = "ecs-fam-3-init-01"
			spec := &apiv1.ContainerSpec{Name: "web", Image: "example/web:2"}
			tt.set(&run.task.Spec, spec)
			got := run.containerConfig(spec, nil)
			base := run.containerConfig(&apiv1.ContainerSpec{Name: "web", Image: "example/web:2", Memory: spec.Memory}, nil)
			want := base
			tt.want(&want)
			got.Name, want.Name = "", ""
			if !reflect.DeepEqual(got, want) {
				t.Errorf("create config:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}
