package taskdef

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

func (c *checker) checkContainer(p string, cd *containerDefinition) {
	if cd.Image == "" {
		c.ps.add(field(p, "image"), "", "is required")
	} else if strings.ContainsAny(cd.Image, " \t\r\n") {
		c.ps.add(field(p, "image"), quote(cd.Image), "must not contain whitespace")
	}
	c.checkMemory(p, cd)
	c.checkPorts(p, cd)
	c.checkLinks(p, cd)
	c.checkDependsOn(p, cd)
	c.checkMounts(p, cd)
	c.checkHealthCheck(p, cd.HealthCheck)
	c.checkUlimits(p, cd.Ulimits)
	c.checkRestartPolicy(p, cd.RestartPolicy)
	c.checkLogConfiguration(p, cd.LogConfiguration)
	c.checkTimeouts(p, cd)
	c.checkLinuxParameters(p, cd)
	c.checkNetworkSettings(p, cd)
	c.checkSecurityOptions(p, cd)
	c.checkSystemControls(p, cd)
	for i, kv := range cd.Environment {
		if kv.Name == "" {
			c.ps.add(field(index(field(p, "environment"), i), "name"), "", "is required")
		}
	}
	for i, s := range cd.Secrets {
		sp := index(field(p, "secrets"), i)
		if s.Name == "" {
			c.ps.add(field(sp, "name"), "", "is required")
		}
		if s.ValueFrom == "" {
			c.ps.add(field(sp, "valueFrom"), "", "is required")
		}
	}
	c.oneOf(field(p, "versionConsistency"), cd.VersionConsistency, "enabled", "disabled")
	c.checkUnsupportedContainer(p, cd)
}

// checkUnsupportedContainer refuses the container features this agent
// cannot provide, each with the reason, so that nothing runs differently
// from what the definition asks.
func (c *checker) checkUnsupportedContainer(p string, cd *containerDefinition) {
	if len(cd.EnvironmentFiles) > 0 {
		c.ps.add(field(p, "environmentFiles"), "", "environment files (from S3) are not supported by this agent; put the variables in environment")
	}
	if len(cd.ResourceRequirements) > 0 {
		c.ps.add(field(p, "resourceRequirements"), "", "GPU and accelerator requirements are not supported by this agent")
	}
	if cd.FirelensConfiguration != nil {
		c.ps.add(field(p, "firelensConfiguration"), "", "FireLens is not supported by this agent")
	}
	if len(cd.CredentialSpecs) > 0 {
		c.ps.add(field(p, "credentialSpecs"), "", "gMSA credential specs are not supported by this agent (they need the credentials-fetcher daemon)")
	}
}

func (c *checker) checkPorts(p string, cd *containerDefinition) {
	if len(cd.PortMappings) > 0 && c.mode == apiv1.NetworkModeNone {
		c.ps.add(field(p, "portMappings"), "", "port mappings are not allowed in network mode none")
		return
	}
	seen := map[string]int{}
	for i, pm := range cd.PortMappings {
		pp := index(field(p, "portMappings"), i)
		c.oneOf(field(pp, "protocol"), pm.Protocol, "tcp", "udp")
		c.oneOf(field(pp, "appProtocol"), pm.AppProtocol, appProtocols...)
		if pm.ContainerPortRange != "" {
			c.ps.add(field(pp, "containerPortRange"), quote(pm.ContainerPortRange), "port ranges are not supported by this agent; map each port")
		}
		if pm.ContainerPort == nil {
			if pm.ContainerPortRange == "" {
				c.ps.add(field(pp, "containerPort"), "", "is required")
			}
			continue
		}
		cp := *pm.ContainerPort
		if cp < 1 || cp > 65535 {
			c.ps.add(field(pp, "containerPort"), strconv.Itoa(int(cp)), "must be between 1 and 65535")
			continue
		}
		hp := int32(0)
		if pm.HostPort != nil {
			hp = *pm.HostPort
		}
		switch {
		case hp < 0 || hp > 65535:
			c.ps.add(field(pp, "hostPort"), strconv.Itoa(int(hp)), "must be between 0 and 65535")
			continue
		case c.mode == apiv1.NetworkModeHost && hp != 0 && hp != cp:
			c.ps.add(field(pp, "hostPort"), strconv.Itoa(int(hp)), "in network mode host must be 0 or equal to containerPort (%d)", cp)
			continue
		case c.mode == apiv1.NetworkModeHost:
			hp = cp
		}
		proto := protocol(pm.Protocol)
		key := fmt.Sprintf("%d/%s", cp, proto)
		if j, dup := seen[key]; dup {
			c.ps.add(field(pp, "containerPort"), strconv.Itoa(int(cp)), "container port %s is already mapped by portMappings[%d]", key, j)
		}
		seen[key] = i
		if hp == 0 {
			continue
		}
		hkey := fmt.Sprintf("%d/%s", hp, proto)
		if other, dup := c.hostPorts[hkey]; dup {
			c.ps.add(field(pp, "hostPort"), strconv.Itoa(int(hp)), "host port %s is already mapped by %s", hkey, other)
		}
		c.hostPorts[hkey] = pp
	}
}

func protocol(p string) string {
	if p == "" {
		return "tcp"
	}
	return p
}

func (c *checker) checkLinks(p string, cd *containerDefinition) {
	if len(cd.Links) > 0 && c.mode != "" && c.mode != apiv1.NetworkModeBridge {
		c.ps.add(field(p, "links"), "", "links are only allowed in network mode bridge")
		return
	}
	for i, l := range cd.Links {
		name := LinkTarget(l)
		if j := c.container(name); j < 0 || name == cd.Name {
			c.ps.add(index(field(p, "links"), i), quote(l), "must name another container of this task")
		}
	}
}

func (c *checker) checkDependsOn(p string, cd *containerDefinition) {
	for i, d := range cd.DependsOn {
		dp := index(field(p, "dependsOn"), i)
		target := c.container(d.ContainerName)
		switch {
		case d.ContainerName == "":
			c.ps.add(field(dp, "containerName"), "", "is required")
		case d.ContainerName == cd.Name:
			c.ps.add(field(dp, "containerName"), quote(d.ContainerName), "a container cannot depend on itself")
		case target < 0:
			c.ps.add(field(dp, "containerName"), quote(d.ContainerName), "must name another container of this task")
		}
		if d.Condition == "" {
			c.ps.add(field(dp, "condition"), "", "is required (%s)", strings.Join(conditions, ", "))
			continue
		}
		if !slices.Contains(conditions, d.Condition) {
			c.ps.add(field(dp, "condition"), quote(d.Condition), "must be one of %s", strings.Join(conditions, ", "))
			continue
		}
		if target < 0 || d.ContainerName == cd.Name {
			continue
		}
		t := &c.td.ContainerDefinitions[target]
		switch d.Condition {
		case apiv1.ConditionHealthy:
			if t.HealthCheck == nil {
				c.ps.add(field(dp, "condition"), quote(d.Condition), "needs a healthCheck on container %s", t.Name)
			}
		case apiv1.ConditionComplete, apiv1.ConditionSuccess:
			if t.Essential == nil || *t.Essential {
				c.ps.add(field(dp, "condition"), quote(d.Condition), "cannot be used on essential container %s: the task would stop when it exits", t.Name)
			}
		}
	}
}

func (c *checker) checkMounts(p string, cd *containerDefinition) {
	for i, m := range cd.MountPoints {
		mp := index(field(p, "mountPoints"), i)
		switch {
		case m.SourceVolume == "":
			c.ps.add(field(mp, "sourceVolume"), "", "is required")
		case !c.volumes[m.SourceVolume]:
			c.ps.add(field(mp, "sourceVolume"), quote(m.SourceVolume), "must name a volume declared in volumes")
		}
		switch {
		case m.ContainerPath == "":
			c.ps.add(field(mp, "containerPath"), "", "is required")
		case !strings.HasPrefix(m.ContainerPath, "/"):
			c.ps.add(field(mp, "containerPath"), quote(m.ContainerPath), "must be an absolute path")
		}
	}
	for i, vf := range cd.VolumesFrom {
		vp := field(index(field(p, "volumesFrom"), i), "sourceContainer")
		switch {
		case vf.SourceContainer == "":
			c.ps.add(vp, "", "is required")
		case vf.SourceContainer == cd.Name || c.container(vf.SourceContainer) < 0:
			c.ps.add(vp, quote(vf.SourceContainer), "must name another container of this task")
		}
	}
}

func (c *checker) checkHealthCheck(p string, hc *healthCheck) {
	if hc == nil {
		return
	}
	hp := field(p, "healthCheck")
	switch {
	case len(hc.Command) == 0:
		c.ps.add(field(hp, "command"), "", "is required")
	case hc.Command[0] != "CMD" && hc.Command[0] != "CMD-SHELL":
		c.ps.add(field(hp, "command")+"[0]", quote(hc.Command[0]), "must be CMD or CMD-SHELL")
	case len(hc.Command) < 2:
		c.ps.add(field(hp, "command"), "", "needs the command after %s", hc.Command[0])
	}
	for _, r := range healthCheckRanges {
		if v := r.pointer(hc); v != nil && (*v < r.lo || *v > r.hi) {
			c.ps.add(field(hp, r.name), strconv.Itoa(int(*v)), "must be between %d and %d", r.lo, r.hi)
		}
	}
}

func (c *checker) checkUlimits(p string, us []ulimit) {
	seen := map[string]bool{}
	for i, u := range us {
		up := index(field(p, "ulimits"), i)
		switch {
		case u.Name == "":
			c.ps.add(field(up, "name"), "", "is required")
		case !slices.Contains(ulimitNames, u.Name):
			c.ps.add(field(up, "name"), quote(u.Name), "must be one of %s", strings.Join(ulimitNames, ", "))
		case seen[u.Name]:
			c.ps.add(field(up, "name"), quote(u.Name), "is set twice")
		}
		seen[u.Name] = true
		if u.SoftLimit == nil {
			c.ps.add(field(up, "softLimit"), "", "is required")
		}
		if u.HardLimit == nil {
			c.ps.add(field(up, "hardLimit"), "", "is required")
		}
		if u.SoftLimit != nil && u.HardLimit != nil && *u.SoftLimit > *u.HardLimit {
			c.ps.add(field(up, "softLimit"), strconv.Itoa(int(*u.SoftLimit)), "must not exceed hardLimit (%d)", *u.HardLimit)
		}
	}
}

func (c *checker) checkRestartPolicy(p string, rp *restartPolicy) {
	if rp == nil {
		return
	}
	pp := field(p, "restartPolicy")
	if rp.Enabled == nil {
		c.ps.add(field(pp, "enabled"), "", "is required")
	}
	if len(rp.IgnoredExitCodes) > 50 {
		c.ps.add(field(pp, "ignoredExitCodes"), "", "must list at most 50 exit codes")
	}
	if v := rp.RestartAttemptPeriod; v != nil && (*v < 60 || *v > 1800) {
		c.ps.add(field(pp, "restartAttemptPeriod"), strconv.Itoa(int(*v)), "must be between 60 and 1800 (seconds)")
	}
}

func (c *checker) checkLogConfiguration(p string, lc *logConfiguration) {
	if lc == nil {
		return
	}
	lp := field(p, "logConfiguration")
	switch {
	case lc.LogDriver == "":
		c.ps.add(field(lp, "logDriver"), "", "is required")
	case lc.LogDriver == "awsfirelens":
		c.ps.add(field(lp, "logDriver"), quote(lc.LogDriver), "FireLens is not supported by this agent")
	default:
		c.oneOf(field(lp, "logDriver"), lc.LogDriver, logDrivers...)
	}
	if len(lc.SecretOptions) > 0 {
		c.ps.add(field(lp, "secretOptions"), "", "log driver secrets are not supported by this agent")
	}
}

func (c *checker) checkTimeouts(p string, cd *containerDefinition) {
	if v := cd.StopTimeout; v != nil && *v < 0 {
		c.ps.add(field(p, "stopTimeout"), strconv.Itoa(int(*v)), "must not be negative (seconds)")
	}
	if v := cd.StartTimeout; v != nil && *v < 0 {
		c.ps.add(field(p, "startTimeout"), strconv.Itoa(int(*v)), "must not be negative (seconds)")
	}
}

// LinkTarget is the container a links entry ("name" or "name:alias")
// names.
func LinkTarget(link string) string {
	name, _, _ := strings.Cut(link, ":")
	return name
}

// LinkAlias is the name a links entry gives its container inside the
// linking one: the alias, or the container's own name.
func LinkAlias(link string) string {
	name, alias, ok := strings.Cut(link, ":")
	if !ok || alias == "" {
		return name
	}
	return alias
}

// checkCycles reports a dependency cycle once, at the first container on it:
// no start order exists for such a task. A container needs its dependsOn and
// volumesFrom containers first; names no container has, and a container
// naming itself, are reported by the checks of those fields.
func (c *checker) checkCycles() {
	cds := c.td.ContainerDefinitions
	names := make([]string, len(cds))
	for i := range cds {
		names[i] = cds[i].Name
	}
	_, err := StartOrder(names, func(i int) []string {
		var needs []string
		need := func(name string) {
			if j := c.container(name); j >= 0 && j != i {
				needs = append(needs, name)
			}
		}
		for _, d := range cds[i].DependsOn {
			need(d.ContainerName)
		}
		for _, v := range cds[i].VolumesFrom {
			need(v.SourceContainer)
		}
		for _, l := range cds[i].Links {
			need(LinkTarget(l))
		}
		return needs
	})
	var ce *CycleError
	if errors.As(err, &ce) {
		f := "volumesFrom"
		for _, l := range cds[ce.First].Links {
			if LinkTarget(l) == ce.Names[1] {
				f = "links"
			}
		}
		for _, d := range cds[ce.First].DependsOn {
			if d.ContainerName == ce.Names[1] {
				f = "dependsOn"
			}
		}
		c.ps.add(field(index("containerDefinitions", ce.First), f), "", "%s", ce.Error())
	}
}
