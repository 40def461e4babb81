package controllers

import (
	"strconv"
	"strings"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/taskdef"
)

// applySettings adds the container definition's network, namespace,
// security, terminal and Linux settings to cfg, translated for Docker the
// way the ECS agent translates them. The definition was checked when it was
// read, and what this instance cannot apply was refused (refusal), so each
// setting here is applied as written.
func (t *taskRun) applySettings(c *apiv1.ContainerSpec, cfg *dockerstate.CreateConfig) {
	cfg.NetworkDisabled = c.DisableNetworking
	cfg.OpenStdin = c.Interactive
	cfg.Tty = c.PseudoTerminal
	cfg.DNS = c.DNSServers
	cfg.DNSSearch = c.DNSSearchDomains
	for _, h := range c.ExtraHosts {
		cfg.ExtraHosts = append(cfg.ExtraHosts, h.Hostname+":"+h.IPAddress)
	}
	cfg.Links = t.links(c)
	cfg.PidMode = t.namespaceMode(t.task.Spec.PidMode)
	cfg.IpcMode = t.namespaceMode(t.task.Spec.IpcMode)
	for _, o := range c.DockerSecurityOptions {
		cfg.SecurityOpt = append(cfg.SecurityOpt, securityOpt(o))
	}
	if len(c.SystemControls) > 0 {
		cfg.Sysctls = map[string]string{}
		for _, sc := range c.SystemControls {
			cfg.Sysctls[sc.Namespace] = sc.Value
		}
	}
	applyLinuxParameters(c.LinuxParameters, cfg)
}

// links names each linked container by its Docker name, which Docker's
// links need, under the alias the definition gives it (or its own name).
// The linked containers exist: a container is created only after the
// containers it links to (prerequisites).
func (t *taskRun) links(c *apiv1.ContainerSpec) []string {
	var out []string
	for _, l := range c.Links {
		ds := t.task.Status.ContainerStatusFor(taskdef.LinkTarget(l))
		if ds == nil || ds.DockerName == "" {
			continue
		}
		out = append(out, ds.DockerName+":"+taskdef.LinkAlias(l))
	}
	return out
}

// namespaceMode is a task's pidMode or ipcMode as Docker names it: "task"
// joins the namespace of the task's pause container.
func (t *taskRun) namespaceMode(mode string) string {
	switch mode {
	case "host", "none":
		return mode
	case "task":
		return "container:" + t.pauseID
	}
	return ""
}

// securityOpt writes an ECS security option ("label:…", "apparmor:…") in
// the form Docker documents ("label=…"); Docker still reads the colon form
// but warns that it is deprecated.
func securityOpt(o string) string {
	for _, kind := range []string{"label", "apparmor"} {
		if v, ok := strings.CutPrefix(o, kind+":"); ok {
			return kind + "=" + v
		}
	}
	return o
}

func applyLinuxParameters(lp *apiv1.LinuxParameters, cfg *dockerstate.CreateConfig) {
	if lp == nil {
		return
	}
	if caps := lp.Capabilities; caps != nil {
		cfg.CapAdd, cfg.CapDrop = caps.Add, caps.Drop
	}
	for _, d := range lp.Devices {
		target := d.ContainerPath
		if target == "" {
			target = d.HostPath
		}
		cfg.Devices = append(cfg.Devices, dockerstate.Device{HostPath: d.HostPath, ContainerPath: target, Permissions: devicePermissions(d.Permissions)})
	}
	cfg.Init = lp.InitProcessEnabled
	if lp.SharedMemorySize != nil {
		cfg.ShmSize = *lp.SharedMemorySize << 20
	}
	for _, tm := range lp.Tmpfs {
		if cfg.Tmpfs == nil {
			cfg.Tmpfs = map[string]string{}
		}
		opts := append([]string{"size=" + strconv.FormatInt(tm.Size, 10) + "m"}, tm.MountOptions...)
		cfg.Tmpfs[tm.ContainerPath] = strings.Join(opts, ",")
	}
	// maxSwap is swap on top of the memory limit, which Docker's
	// MemorySwap counts in: 0 means no swap at all.
	if lp.MaxSwap != nil {
		cfg.Resources.MemorySwap = cfg.Resources.Memory + *lp.MaxSwap<<20
		cfg.Resources.MemorySwappiness = lp.Swappiness
	}
}

// devicePermissions turns ECS's device permissions into cgroup ones; none
// listed means all of them, as in ECS.
func devicePermissions(perms []string) string {
	if len(perms) == 0 {
		return "rwm"
	}
	var b strings.Builder
	for _, p := range []struct{ name, flag string }{{"read", "r"}, {"write", "w"}, {"mknod", "m"}} {
		for _, q := range perms {
			if q == p.name {
				b.WriteString(p.flag)
				break
			}
		}
	}
	return b.String()
}
