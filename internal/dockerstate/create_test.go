package dockerstate

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// TestCreateConfigTranslatesEachFieldToTheDaemonsCreateCall specifies, one
// field at a time, where CreateConfig's fields land in the create call.
func TestCreateConfigTranslatesEachFieldToTheDaemonsCreateCall(t *testing.T) {
	web, dns := network.MustParsePort("8080/tcp"), network.MustParsePort("53/udp")
	type (
		config  = CreateConfig
		options = client.ContainerCreateOptions
	)
	tests := []struct {
		field string
		set   func(*config)
		want  func(*options)
	}{
		{"nothing but name and image: the daemon's defaults", func(*config) {}, func(*options) {}},
		{"Command", func(c *config) { c.Command = []string{"serve", "8080"} }, func(o *options) { o.Config.Cmd = []string{"serve", "8080"} }},
		{"EntryPoint", func(c *config) { c.EntryPoint = []string{"/app"} }, func(o *options) { o.Config.Entrypoint = []string{"/app"} }},
		{"Env", func(c *config) { c.Env = []string{"A=1", "B=x=y"} }, func(o *options) { o.Config.Env = []string{"A=1", "B=x=y"} }},
		{"Labels", func(c *config) { c.Labels = map[string]string{"team": "x"} }, func(o *options) { o.Config.Labels = map[string]string{"team": "x"} }},
		{"User", func(c *config) { c.User = "1000:1000" }, func(o *options) { o.Config.User = "1000:1000" }},
		{"WorkingDir", func(c *config) { c.WorkingDir = "/srv" }, func(o *options) { o.Config.WorkingDir = "/srv" }},
		{"Hostname", func(c *config) { c.Hostname = "web" }, func(o *options) { o.Config.Hostname = "web" }},
		{"StopSignal", func(c *config) { c.StopSignal = "SIGINT" }, func(o *options) { o.Config.StopSignal = "SIGINT" }},
		{"StopTimeout in whole seconds", func(c *config) { c.StopTimeout = ptr(45 * time.Second) }, func(o *options) { o.Config.StopTimeout = ptr(45) }},
		{"HealthCheck", func(c *config) {
			c.HealthCheck = &HealthCheck{Test: []string{"CMD-SHELL", "true"}, Interval: 5 * time.Second, Timeout: 2 * time.Second, StartPeriod: 10 * time.Second, Retries: 3}
		}, func(o *options) {
			o.Config.Healthcheck = &container.HealthConfig{Test: []string{"CMD-SHELL", "true"}, Interval: 5 * time.Second, Timeout: 2 * time.Second, StartPeriod: 10 * time.Second, Retries: 3}
		}},
		{"NetworkMode", func(c *config) { c.NetworkMode = "host" }, func(o *options) { o.HostConfig.NetworkMode = "host" }},
		{"Privileged", func(c *config) { c.Privileged = true }, func(o *options) { o.HostConfig.Privileged = true }},
		{"ReadonlyRootfs", func(c *config) { c.ReadonlyRootfs = true }, func(o *options) { o.HostConfig.ReadonlyRootfs = true }},
		{"Mounts as binds", func(c *config) {
			c.Mounts = []Mount{{Source: "/var/log/app", Target: "/logs"}, {Source: "ecs-t-scratch", Target: "/scratch", ReadOnly: true}}
		}, func(o *options) { o.HostConfig.Binds = []string{"/var/log/app:/logs", "ecs-t-scratch:/scratch:ro"} }},
		{"VolumesFrom", func(c *config) { c.VolumesFrom = []VolumesFrom{{Container: "abc"}, {Container: "def", ReadOnly: true}} },
			func(o *options) { o.HostConfig.VolumesFrom = []string{"abc", "def:ro"} }},
		{"Resources", func(c *config) {
			c.Resources = Resources{CPUShares: 256, Memory: 64 << 20, MemoryReservation: 32 << 20}
		},
			func(o *options) {
				o.HostConfig.CPUShares, o.HostConfig.Memory, o.HostConfig.MemoryReservation = 256, 64<<20, 32<<20
			}},
		{"Ulimits", func(c *config) { c.Ulimits = []Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}} },
			func(o *options) { o.HostConfig.Ulimits = []*container.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}} }},
		{"LogConfig", func(c *config) {
			c.LogConfig = &LogConfig{Driver: "json-file", Options: map[string]string{"max-size": "10m"}}
		},
			func(o *options) {
				o.HostConfig.LogConfig = container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m"}}
			}},
		{"Resources: swap", func(c *config) {
			c.Resources = Resources{Memory: 64 << 20, MemorySwap: 96 << 20, MemorySwappiness: ptr[int64](10)}
		},
			func(o *options) {
				o.HostConfig.Memory, o.HostConfig.MemorySwap, o.HostConfig.MemorySwappiness = 64<<20, 96<<20, ptr[int64](10)
			}},
		{"NetworkDisabled", func(c *config) { c.NetworkDisabled = true }, func(o *options) { o.Config.NetworkDisabled = true }},
		{"OpenStdin and Tty", func(c *config) { c.OpenStdin, c.Tty = true, true }, func(o *options) { o.Config.OpenStdin, o.Config.Tty = true, true }},
		{"Links", func(c *config) { c.Links = []string{"ecs-t-1-db-01:db"} }, func(o *options) { o.HostConfig.Links = []string{"ecs-t-1-db-01:db"} }},
		{"ExtraHosts", func(c *config) { c.ExtraHosts = []string{"db:10.0.0.3"} }, func(o *options) { o.HostConfig.ExtraHosts = []string{"db:10.0.0.3"} }},
		{"DNS and DNSSearch", func(c *config) { c.DNS, c.DNSSearch = []string{"10.0.0.2", "fd00::53"}, []string{"example.com"} },
			func(o *options) {
				o.HostConfig.DNS = []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd00::53")}
				o.HostConfig.DNSSearch = []string{"example.com"}
			}},
		{"PidMode and IpcMode", func(c *config) { c.PidMode, c.IpcMode = "host", "container:abc" },
			func(o *options) { o.HostConfig.PidMode, o.HostConfig.IpcMode = "host", "container:abc" }},
		{"SecurityOpt", func(c *config) { c.SecurityOpt = []string{"no-new-privileges"} }, func(o *options) { o.HostConfig.SecurityOpt = []string{"no-new-privileges"} }},
		{"Sysctls", func(c *config) { c.Sysctls = map[string]string{"net.core.somaxconn": "1024"} },
			func(o *options) { o.HostConfig.Sysctls = map[string]string{"net.core.somaxconn": "1024"} }},
		{"CapAdd and CapDrop", func(c *config) { c.CapAdd, c.CapDrop = []string{"NET_ADMIN"}, []string{"ALL"} },
			func(o *options) { o.HostConfig.CapAdd, o.HostConfig.CapDrop = []string{"NET_ADMIN"}, []string{"ALL"} }},
		{"Devices", func(c *config) {
			c.Devices = []Device{{HostPath: "/dev/fuse", ContainerPath: "/dev/fuse", Permissions: "rw"}}
		},
			func(o *options) {
				o.HostConfig.Devices = []container.DeviceMapping{{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rw"}}
			}},
		{"Init", func(c *config) { c.Init = true }, func(o *options) { o.HostConfig.Init = ptr(true) }},
		{"ShmSize and Tmpfs", func(c *config) { c.ShmSize, c.Tmpfs = 64<<20, map[string]string{"/run": "size=8m,noexec"} },
			func(o *options) {
				o.HostConfig.ShmSize, o.HostConfig.Tmpfs = 64<<20, map[string]string{"/run": "size=8m,noexec"}
			}},
		{"CgroupParent", func(c *config) { c.CgroupParent = "/ecs/abc" }, func(o *options) { o.HostConfig.CgroupParent = "/ecs/abc" }},
		{"Ports: exposed and bound, several bindings of one port, a host address", func(c *config) {
			c.Ports = []PortBinding{
				{ContainerPort: 8080, HostPort: 40001, Protocol: "tcp"},
				{ContainerPort: 8080, HostPort: 40002, Protocol: "tcp", HostIP: "127.0.0.1"},
				{ContainerPort: 53, HostPort: 40003, Protocol: "udp"},
				{ContainerPort: 9000, HostPort: 40004}, // no protocol: not published
			}
		}, func(o *options) {
			o.Config.ExposedPorts = network.PortSet{web: {}, dns: {}}
			o.HostConfig.PortBindings = network.PortMap{
				web: {{HostPort: "40001"}, {HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "40002"}},
				dns: {{HostPort: "40003"}},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			cfg := config{Name: "ecs-t-1-web-0123", Image: "busybox:1.36"}
			tt.set(&cfg)
			want := options{Name: cfg.Name, Config: &container.Config{Image: cfg.Image}, HostConfig: &container.HostConfig{}}
			tt.want(&want)
			got, err := cfg.createOptions()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("create call:\n got %+v\n     %+v\nwant %+v\n     %+v", got.Config, got.HostConfig, want.Config, want.HostConfig)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestCreateConfigWithABadDNSServerIsRefused(t *testing.T) {
	cfg := CreateConfig{Name: "n", Image: "busybox", DNS: []string{"dns.example.com"}}
	if _, err := cfg.createOptions(); err == nil || !strings.Contains(err.Error(), `"dns.example.com"`) {
		t.Fatalf("createOptions with DNS server dns.example.com: %v; want an error naming it", err)
	}
}

func TestCreateConfigWithABadHostAddressIsRefused(t *testing.T) {
	cfg := CreateConfig{Name: "n", Image: "busybox", Ports: []PortBinding{{ContainerPort: 80, HostPort: 8080, Protocol: "tcp", HostIP: "localhost"}}}
	if _, err := cfg.createOptions(); err == nil || !strings.Contains(err.Error(), `"localhost"`) {
		t.Fatalf("createOptions with host address localhost: %v; want an error naming it", err)
	}
}
