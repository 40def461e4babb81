package taskdef

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// Value sets of the Linux settings, from the ECS API reference
// (KernelCapabilities, Device, Tmpfs).
var (
	capabilities = []string{"ALL", "AUDIT_CONTROL", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN", "DAC_OVERRIDE",
		"DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE",
		"MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW",
		"SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE",
		"SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG",
		"SYSLOG", "WAKE_ALARM"}
	devicePermissions = []string{"read", "write", "mknod"}
	tmpfsOptions      = []string{"defaults", "ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec",
		"sync", "async", "dirsync", "remount", "mand", "nomand", "atime", "noatime", "diratime", "nodiratime",
		"bind", "rbind", "unbindable", "runbindable", "private", "rprivate", "shared", "rshared", "slave",
		"rslave", "relatime", "norelatime", "strictatime", "nostrictatime", "mode", "uid", "gid", "nr_inodes",
		"nr_blocks", "mpol"}
)

// ipcSysctls are the kernel parameters of the IPC namespace that Docker
// lets a container set (runc's validator); every net.* parameter belongs
// to the network namespace.
var ipcSysctls = []string{"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
	"kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}

func (c *checker) checkLinuxParameters(p string, cd *containerDefinition) {
	lp := cd.LinuxParameters
	if lp == nil {
		return
	}
	p = field(p, "linuxParameters")
	if caps := lp.Capabilities; caps != nil {
		for _, set := range []struct {
			name string
			list []string
		}{{"add", caps.Add}, {"drop", caps.Drop}} {
			for i, name := range set.list {
				c.oneOf(index(field(field(p, "capabilities"), set.name), i), name, capabilities...)
			}
		}
	}
	for i, d := range lp.Devices {
		dp := index(field(p, "devices"), i)
		c.absolutePath(field(dp, "hostPath"), d.HostPath, true)
		c.absolutePath(field(dp, "containerPath"), d.ContainerPath, false)
		for j, perm := range d.Permissions {
			c.oneOf(index(field(dp, "permissions"), j), perm, devicePermissions...)
		}
	}
	if v := lp.SharedMemorySize; v != nil {
		switch {
		case *v <= 0:
			c.ps.add(field(p, "sharedMemorySize"), strconv.Itoa(int(*v)), "must be positive (MiB)")
		case c.td.IpcMode != "":
			// Docker sizes /dev/shm only for a container with its own IPC
			// namespace, and ignores the size otherwise.
			c.ps.add(field(p, "sharedMemorySize"), strconv.Itoa(int(*v)), "cannot be applied with ipcMode %q: the container has no /dev/shm of its own", c.td.IpcMode)
		}
	}
	for i, t := range lp.Tmpfs {
		tp := index(field(p, "tmpfs"), i)
		c.absolutePath(field(tp, "containerPath"), t.ContainerPath, true)
		switch {
		case t.Size == nil:
			c.ps.add(field(tp, "size"), "", "is required (MiB)")
		case *t.Size <= 0:
			c.ps.add(field(tp, "size"), strconv.Itoa(int(*t.Size)), "must be positive (MiB)")
		}
		for j, o := range t.MountOptions {
			name, _, _ := strings.Cut(o, "=")
			if !slices.Contains(tmpfsOptions, name) {
				c.ps.add(index(field(tp, "mountOptions"), j), quote(o), "must be one of %s", strings.Join(tmpfsOptions, ", "))
			}
		}
	}
	c.checkSwap(p, cd)
}

// checkSwap holds maxSwap and swappiness to what Docker can apply: a swap
// limit is set together with a memory limit, and ECS applies swappiness
// only with maxSwap (it would be ignored otherwise, so it is refused).
func (c *checker) checkSwap(p string, cd *containerDefinition) {
	lp := cd.LinuxParameters
	if v := lp.MaxSwap; v != nil {
		switch {
		case *v < 0:
			c.ps.add(field(p, "maxSwap"), strconv.Itoa(int(*v)), "must not be negative (MiB)")
		case cd.Memory == nil:
			c.ps.add(field(p, "maxSwap"), strconv.Itoa(int(*v)), "needs the container's memory (a hard limit): Docker limits swap only together with memory")
		}
	}
	if v := lp.Swappiness; v != nil {
		switch {
		case *v < 0 || *v > 100:
			c.ps.add(field(p, "swappiness"), strconv.Itoa(int(*v)), "must be between 0 and 100")
		case lp.MaxSwap == nil:
			c.ps.add(field(p, "swappiness"), strconv.Itoa(int(*v)), "is applied only together with maxSwap (as in ECS); set maxSwap too")
		}
	}
}

func (c *checker) absolutePath(path, v string, required bool) {
	switch {
	case v == "" && required:
		c.ps.add(path, "", "is required")
	case v != "" && !strings.HasPrefix(v, "/"):
		c.ps.add(path, quote(v), "must be an absolute path")
	}
}

// checkNetworkSettings checks the container's name resolution settings.
func (c *checker) checkNetworkSettings(p string, cd *containerDefinition) {
	for i, h := range cd.ExtraHosts {
		hp := index(field(p, "extraHosts"), i)
		if h.Hostname == "" {
			c.ps.add(field(hp, "hostname"), "", "is required")
		}
		c.ipAddress(field(hp, "ipAddress"), h.IPAddress)
	}
	for i, s := range cd.DNSServers {
		c.ipAddress(index(field(p, "dnsServers"), i), s)
	}
	for i, d := range cd.DNSSearchDomains {
		if d == "" || strings.ContainsAny(d, " \t") {
			c.ps.add(index(field(p, "dnsSearchDomains"), i), quote(d), "must be a domain name")
		}
	}
}

func (c *checker) ipAddress(path, v string) {
	if v == "" {
		c.ps.add(path, "", "is required")
		return
	}
	if _, err := netip.ParseAddr(v); err != nil {
		c.ps.add(path, quote(v), "must be an IPv4 or IPv6 address")
	}
}

// checkSecurityOptions accepts the forms ECS documents for Linux:
// no-new-privileges, apparmor:PROFILE and label:VALUE (SELinux). Whether
// this instance can apply a label or a profile is its configuration's
// answer (ECS_SELINUX_CAPABLE, ECS_APPARMOR_CAPABLE), checked when the task
// runs.
func (c *checker) checkSecurityOptions(p string, cd *containerDefinition) {
	for i, o := range cd.DockerSecurityOptions {
		op := index(field(p, "dockerSecurityOptions"), i)
		kind, value, _ := strings.Cut(o, ":")
		switch {
		case o == "no-new-privileges":
		case kind == "credentialspec":
			c.ps.add(op, quote(o), "gMSA credential specs are for Windows containers, which this agent does not run")
		case (kind == "apparmor" || kind == "label") && value != "":
		default:
			c.ps.add(op, quote(o), `must be "no-new-privileges", "apparmor:PROFILE" or "label:VALUE"`)
		}
	}
}

// checkSystemControls refuses what Docker would refuse when it starts the
// container, with the reason: only namespaced parameters can be set, and
// not those of a namespace the container shares with the host.
func (c *checker) checkSystemControls(p string, cd *containerDefinition) {
	for i, sc := range cd.SystemControls {
		sp := index(field(p, "systemControls"), i)
		ns := sc.Namespace
		if sc.Value == "" {
			c.ps.add(field(sp, "value"), "", "is required")
		}
		switch {
		case ns == "":
			c.ps.add(field(sp, "namespace"), "", "is required")
		case strings.HasPrefix(ns, "net."):
			if c.mode == apiv1.NetworkModeHost {
				c.ps.add(field(sp, "namespace"), quote(ns), "cannot be set in network mode host: it would change the host's network stack")
			}
		case slices.Contains(ipcSysctls, ns) || strings.HasPrefix(ns, "fs.mqueue."):
			if c.td.IpcMode == "host" {
				c.ps.add(field(sp, "namespace"), quote(ns), `cannot be set with ipcMode "host": it would change the host's IPC namespace`)
			}
		default:
			c.ps.add(field(sp, "namespace"), quote(ns), "is not a namespaced kernel parameter a container may set (net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)")
		}
	}
}
