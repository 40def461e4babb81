package dockerstate

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// CreateConfig describes a container to create, in the agent's terms:
// plain Go values, so that no package but this one needs the daemon's API
// types. CreateContainer translates it into the daemon's create call. A
// zero field leaves the image's or the daemon's default.
type CreateConfig struct {
	// Name is the container's Docker name, without the leading slash.
	Name  string
	Image string
	// Command and EntryPoint replace the image's CMD and ENTRYPOINT.
	Command    []string
	EntryPoint []string
	// Env is the environment as NAME=value pairs, in order.
	Env        []string
	Labels     map[string]string
	User       string
	WorkingDir string
	Hostname   string
	// StopSignal replaces the image's stop signal ("SIGINT", …).
	StopSignal string
	// StopTimeout is how long the daemon's own stop (docker stop, a
	// daemon shutdown) waits before SIGKILL; nil is the daemon's default.
	StopTimeout *time.Duration
	HealthCheck *HealthCheck

	// NetworkMode is "bridge", "host", "none", "container:<id>" or a
	// network name.
	NetworkMode    string
	Privileged     bool
	ReadonlyRootfs bool
	// Mounts are bind mounts of a host path or a named volume.
	Mounts []Mount
	// VolumesFrom are containers whose volumes this one mounts too.
	VolumesFrom []VolumesFrom
	Resources   Resources
	Ulimits     []Ulimit
	// LogConfig nil is the daemon's default log driver.
	LogConfig *LogConfig
	// Ports are the container ports to publish on the host; a HostPort of
	// 0 lets the daemon pick one, an empty HostIP binds every address. A
	// binding without a protocol is not published.
	Ports []PortBinding

	// NetworkDisabled gives the container no network interface but lo.
	NetworkDisabled bool
	// Links are legacy links, "container:alias" (bridge network only).
	Links []string
	// ExtraHosts are /etc/hosts lines, "hostname:address".
	ExtraHosts []string
	DNS        []string
	DNSSearch  []string
	// PidMode and IpcMode are "" (the container's own namespace), "host",
	// "container:<id>", and for IpcMode "none" or "shareable".
	PidMode string
	IpcMode string
	// SecurityOpt are Docker's --security-opt values ("no-new-privileges",
	// "label=…", "apparmor=…").
	SecurityOpt []string
	// Sysctls are namespaced kernel parameters.
	Sysctls map[string]string
	// CapAdd and CapDrop are capability names ("NET_ADMIN", "ALL").
	CapAdd, CapDrop []string
	Devices         []Device
	// Init runs Docker's init process as PID 1.
	Init bool
	// ShmSize is the size of /dev/shm in bytes.
	ShmSize int64
	// Tmpfs maps a container path to its tmpfs mount options.
	Tmpfs map[string]string
	// OpenStdin keeps stdin open; Tty allocates a terminal.
	OpenStdin, Tty bool
	// CgroupParent is the cgroup the container's cgroup is created under.
	CgroupParent string
}

// Device is a host device exposed in the container; Permissions are
// cgroup device permissions ("rwm").
type Device struct {
	HostPath, ContainerPath, Permissions string
}

// HealthCheck is the container's health check, as Docker runs it.
type HealthCheck struct {
	// Test is the check in Docker's form: ["CMD", arg...],
	// ["CMD-SHELL", command], or ["NONE"] to disable the image's.
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
}

// Mount is one bind mount: Source is a host path (absolute) or the name of
// a Docker volume, Target the path inside the container. In the cache's
// Container, Source is where the mount's data lives on the host and Name
// the volume's name ("" for a bind mount).
type Mount struct {
	Source, Target string
	ReadOnly       bool
	Name           string
}

// VolumesFrom names a container (id or name) whose volumes are mounted.
type VolumesFrom struct {
	Container string
	ReadOnly  bool
}

// Resources are the container's cgroup limits; zero is no limit (for
// CPUShares, Docker's default weight of 1024).
type Resources struct {
	CPUShares int64
	// Memory and MemoryReservation are bytes.
	Memory, MemoryReservation int64
	// MemorySwap is memory plus swap in bytes; 0 is the daemon's default.
	MemorySwap int64
	// MemorySwappiness nil is the daemon's default.
	MemorySwappiness *int64
}

// Ulimit is one resource limit (RLIMIT_<Name>) of the container's
// processes.
type Ulimit struct {
	Name       string
	Soft, Hard int64
}

// LogConfig is the container's log driver and its options.
type LogConfig struct {
	Driver  string
	Options map[string]string
}

// createOptions translates cfg into the daemon's create call.
func (cfg *CreateConfig) createOptions() (client.ContainerCreateOptions, error) {
	c := &container.Config{
		Image:      cfg.Image,
		Cmd:        cfg.Command,
		Entrypoint: cfg.EntryPoint,
		Env:        cfg.Env,
		Labels:     cfg.Labels,
		User:       cfg.User,
		WorkingDir: cfg.WorkingDir,
		Hostname:   cfg.Hostname,
		StopSignal: cfg.StopSignal,

		NetworkDisabled: cfg.NetworkDisabled,
		OpenStdin:       cfg.OpenStdin,
		Tty:             cfg.Tty,
	}
	if cfg.StopTimeout != nil {
		s := int(cfg.StopTimeout.Seconds())
		c.StopTimeout = &s
	}
	if hc := cfg.HealthCheck; hc != nil {
		c.Healthcheck = &container.HealthConfig{
			Test:        hc.Test,
			Interval:    hc.Interval,
			Timeout:     hc.Timeout,
			StartPeriod: hc.StartPeriod,
			Retries:     hc.Retries,
		}
	}
	h := &container.HostConfig{
		NetworkMode:    container.NetworkMode(cfg.NetworkMode),
		Privileged:     cfg.Privileged,
		ReadonlyRootfs: cfg.ReadonlyRootfs,
		Binds:          binds(cfg.Mounts),
		VolumesFrom:    volumesFrom(cfg.VolumesFrom),
	}
	if err := cfg.hostSettings(h); err != nil {
		return client.ContainerCreateOptions{}, err
	}
	for _, u := range cfg.Ulimits {
		h.Ulimits = append(h.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	if lc := cfg.LogConfig; lc != nil {
		h.LogConfig = container.LogConfig{Type: lc.Driver, Config: lc.Options}
	}
	var err error
	c.ExposedPorts, h.PortBindings, err = publish(cfg.Ports)
	if err != nil {
		return client.ContainerCreateOptions{}, err
	}
	return client.ContainerCreateOptions{Name: cfg.Name, Config: c, HostConfig: h}, nil
}

// hostSettings sets the host config's resources and the container's view of
// the host: namespaces, names, kernel settings and privileges.
func (cfg *CreateConfig) hostSettings(h *container.HostConfig) error {
	r := cfg.Resources
	h.CPUShares = r.CPUShares
	h.Memory = r.Memory
	h.MemoryReservation = r.MemoryReservation
	h.MemorySwap = r.MemorySwap
	h.MemorySwappiness = r.MemorySwappiness
	h.CgroupParent = cfg.CgroupParent
	h.Links = cfg.Links
	h.ExtraHosts = cfg.ExtraHosts
	h.DNSSearch = cfg.DNSSearch
	for _, s := range cfg.DNS {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("DNS server %q: %w", s, err)
		}
		h.DNS = append(h.DNS, a)
	}
	h.PidMode = container.PidMode(cfg.PidMode)
	h.IpcMode = container.IpcMode(cfg.IpcMode)
	h.SecurityOpt = cfg.SecurityOpt
	h.Sysctls = cfg.Sysctls
	h.CapAdd = cfg.CapAdd
	h.CapDrop = cfg.CapDrop
	for _, d := range cfg.Devices {
		h.Devices = append(h.Devices, container.DeviceMapping{PathOnHost: d.HostPath, PathInContainer: d.ContainerPath, CgroupPermissions: d.Permissions})
	}
	if cfg.Init {
		init := true
		h.Init = &init
	}
	h.ShmSize = cfg.ShmSize
	h.Tmpfs = cfg.Tmpfs
	return nil
}

// binds writes mounts in the -v form, source:target[:ro]. Binds rather than
// the Mounts API, because a bind of a missing host path creates it, as the
// ECS agent's host volumes rely on.
func binds(ms []Mount) []string {
	var out []string
	for _, m := range ms {
		b := m.Source + ":" + m.Target
		if m.ReadOnly {
			b += ":ro"
		}
		out = append(out, b)
	}
	return out
}

func volumesFrom(vs []VolumesFrom) []string {
	var out []string
	for _, v := range vs {
		s := v.Container
		if v.ReadOnly {
			s += ":ro"
		}
		out = append(out, s)
	}
	return out
}

// publish turns port bindings into the exposed ports and port map of the
// create call.
func publish(ports []PortBinding) (network.PortSet, network.PortMap, error) {
	if len(ports) == 0 {
		return nil, nil, nil
	}
	exposed := network.PortSet{}
	pm := network.PortMap{}
	for _, b := range ports {
		p, ok := network.PortFrom(uint16(b.ContainerPort), network.IPProtocol(b.Protocol))
		if !ok {
			continue
		}
		pb := network.PortBinding{HostPort: strconv.Itoa(int(b.HostPort))}
		if b.HostIP != "" {
			ip, err := netip.ParseAddr(b.HostIP)
			if err != nil {
				return nil, nil, fmt.Errorf("publish port %d/%s on host address %q: %w", b.ContainerPort, b.Protocol, b.HostIP, err)
			}
			pb.HostIP = ip
		}
		exposed[p] = struct{}{}
		pm[p] = append(pm[p], pb)
	}
	return exposed, pm, nil
}
