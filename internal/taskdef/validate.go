package taskdef

import (
	"fmt"
	"math"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// ECS name rules (RegisterTaskDefinition): up to 255 letters, digits,
// hyphens and underscores, for families, container names and volume names.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

const nameRule = "must be 1 to 255 letters, digits, hyphens (-) and underscores (_)"

// Value sets ECS accepts, from the API reference's enums.
var (
	conditions        = []string{apiv1.ConditionStart, apiv1.ConditionComplete, apiv1.ConditionSuccess, apiv1.ConditionHealthy, apiv1.ConditionCreate}
	compatibilities   = []string{"EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES"}
	logDrivers        = []string{"json-file", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "awsfirelens"}
	ulimitNames       = []string{"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}
	appProtocols      = []string{"http", "http2", "grpc"}
	minContainerMiB   = int32(6) // Docker refuses a memory limit below 6 MiB
	healthCheckRanges = []struct {
		name    string
		lo, hi  int32
		pointer func(*healthCheck) *int32
	}{
		{"interval", 5, 300, func(h *healthCheck) *int32 { return h.Interval }},
		{"timeout", 2, 60, func(h *healthCheck) *int32 { return h.Timeout }},
		{"retries", 1, 10, func(h *healthCheck) *int32 { return h.Retries }},
		{"startPeriod", 0, 300, func(h *healthCheck) *int32 { return h.StartPeriod }},
	}
)

// checker holds what the rules need to see across the whole definition.
type checker struct {
	ps        problems
	td        *taskDefinition
	mode      string
	taskMiB   int64 // 0: the task sets no memory
	byName    map[string]int
	volumes   map[string]bool
	hostPorts map[string]string // "8080/tcp" → path of the mapping that holds it
}

func validate(td *taskDefinition) *checker {
	c := &checker{td: td, byName: map[string]int{}, volumes: map[string]bool{}, hostPorts: map[string]string{}}
	c.checkTask()
	c.checkVolumes()
	c.indexContainers()
	essential := 0
	for i := range td.ContainerDefinitions {
		cd := &td.ContainerDefinitions[i]
		c.checkContainer(index("containerDefinitions", i), cd)
		if cd.Essential == nil || *cd.Essential {
			essential++
		}
	}
	if len(td.ContainerDefinitions) > 0 && essential == 0 {
		c.ps.add("containerDefinitions", "", "at least one container must be essential")
	}
	c.checkCycles()
	return c
}

func (c *checker) checkTask() {
	td := c.td
	switch {
	case td.Family == "":
		c.ps.add("family", "", "is required")
	case !namePattern.MatchString(td.Family):
		c.ps.add("family", quote(td.Family), nameRule)
	}
	if len(td.ContainerDefinitions) == 0 {
		c.ps.add("containerDefinitions", "", "at least one container definition is required")
	}
	c.mode = td.NetworkMode
	switch td.NetworkMode {
	case "", apiv1.NetworkModeBridge, apiv1.NetworkModeHost, apiv1.NetworkModeNone:
	case "awsvpc":
		c.ps.add("networkMode", quote(td.NetworkMode), "is not supported by this agent (bridge, host or none)")
	default:
		c.ps.add("networkMode", quote(td.NetworkMode), "must be bridge, host, awsvpc or none")
	}
	if td.CPU != nil {
		if _, err := TaskCPU(*td.CPU); err != nil {
			c.ps.add("cpu", quote(*td.CPU), "%v", err)
		}
	}
	if td.Memory != nil {
		mib, err := TaskMemory(*td.Memory)
		if err != nil {
			c.ps.add("memory", quote(*td.Memory), "%v", err)
		}
		c.taskMiB = mib
	}
	c.oneOf("pidMode", td.PidMode, "host", "task")
	c.oneOf("ipcMode", td.IpcMode, "host", "task", "none")
	for i, rc := range td.RequiresCompatibilities {
		c.oneOf(index("requiresCompatibilities", i), rc, compatibilities...)
	}
	for i, pc := range td.PlacementConstraints {
		c.oneOf(field(index("placementConstraints", i), "type"), pc.Type, "memberOf")
	}
	for i, t := range td.Tags {
		if t.Key == "" {
			c.ps.add(field(index("tags", i), "key"), "", "is required")
		}
	}
	c.checkUnsupportedTask()
}

// checkUnsupportedTask refuses the task-level features this agent cannot
// provide, each with the reason.
func (c *checker) checkUnsupportedTask() {
	td := c.td
	if td.ProxyConfiguration != nil {
		c.ps.add("proxyConfiguration", "", "App Mesh proxy configuration is not supported by this agent")
	}
	if len(td.InferenceAccelerators) > 0 {
		c.ps.add("inferenceAccelerators", "", "Elastic Inference accelerators are not supported by this agent")
	}
	if rp := td.RuntimePlatform; rp != nil && rp.OperatingSystemFamily != "" && rp.OperatingSystemFamily != "LINUX" {
		c.ps.add("runtimePlatform.operatingSystemFamily", quote(rp.OperatingSystemFamily), "is not supported by this agent (LINUX only)")
	}
	if td.EphemeralStorage != nil {
		c.ps.add("ephemeralStorage", "", "is a Fargate setting: a task on this agent's instance uses the Docker data disk")
	}
	if td.EnableFaultInjection != nil && *td.EnableFaultInjection {
		c.ps.add("enableFaultInjection", "true", "fault injection is not supported by this agent")
	}
	if rp := td.RuntimePlatform; rp != nil && rp.CPUArchitecture != "" {
		if arch := hostArchitecture(); rp.CPUArchitecture != arch {
			c.ps.add("runtimePlatform.cpuArchitecture", quote(rp.CPUArchitecture), "does not match this instance (%s)", arch)
		}
	}
}

// hostArchitecture is this instance's CPU architecture as ECS names it
// (RuntimePlatform.cpuArchitecture).
func hostArchitecture() string {
	switch runtime.GOARCH {
	case "amd64":
		return "X86_64"
	case "arm64":
		return "ARM64"
	}
	return strings.ToUpper(runtime.GOARCH)
}

func (c *checker) oneOf(path, v string, allowed ...string) {
	if v != "" && !slices.Contains(allowed, v) {
		c.ps.add(path, quote(v), "must be one of %s", strings.Join(allowed, ", "))
	}
}

func (c *checker) checkVolumes() {
	for i, v := range c.td.Volumes {
		p := index("volumes", i)
		switch {
		case v.Name == "":
			c.ps.add(field(p, "name"), "", "is required")
		case !namePattern.MatchString(v.Name):
			c.ps.add(field(p, "name"), quote(v.Name), nameRule)
		case c.volumes[v.Name]:
			c.ps.add(field(p, "name"), quote(v.Name), "is declared twice; volume names must be unique")
		}
		c.volumes[v.Name] = true
		if v.Host != nil && v.DockerVolumeConfiguration != nil {
			c.ps.add(p, "", "host and dockerVolumeConfiguration cannot both be set")
		}
		if v.Host != nil && v.Host.SourcePath != "" && !strings.HasPrefix(v.Host.SourcePath, "/") {
			c.ps.add(field(p, "host.sourcePath"), quote(v.Host.SourcePath), "must be an absolute path")
		}
		if dv := v.DockerVolumeConfiguration; dv != nil {
			c.oneOf(field(p, "dockerVolumeConfiguration.scope"), dv.Scope, "task", "shared")
			if dv.Autoprovision != nil && *dv.Autoprovision && dv.Scope != "shared" {
				c.ps.add(field(p, "dockerVolumeConfiguration.autoprovision"), "true", "is only allowed with scope \"shared\"")
			}
		}
		if v.EFSVolumeConfiguration != nil {
			c.ps.add(field(p, "efsVolumeConfiguration"), "", "EFS volumes are not supported by this agent")
		}
		if v.FSxWindowsFileServerVolumeConfiguration != nil {
			c.ps.add(field(p, "fsxWindowsFileServerVolumeConfiguration"), "", "FSx for Windows volumes are not supported by this agent")
		}
		if v.ConfiguredAtLaunch != nil && *v.ConfiguredAtLaunch {
			c.ps.add(field(p, "configuredAtLaunch"), "true", "is not supported: a static task has no launch to configure the volume")
		}
	}
}

func (c *checker) indexContainers() {
	for i, cd := range c.td.ContainerDefinitions {
		p := field(index("containerDefinitions", i), "name")
		switch {
		case cd.Name == "":
			c.ps.add(p, "", "is required")
			continue
		case !namePattern.MatchString(cd.Name):
			c.ps.add(p, quote(cd.Name), nameRule)
		}
		if j, dup := c.byName[cd.Name]; dup {
			c.ps.add(p, quote(cd.Name), "is used by containerDefinitions[%d] too; container names must be unique", j)
			continue
		}
		c.byName[cd.Name] = i
	}
}

// container returns the index of the named container, or -1.
func (c *checker) container(name string) int {
	if i, ok := c.byName[name]; ok {
		return i
	}
	return -1
}

func (c *checker) checkMemory(p string, cd *containerDefinition) {
	if cd.Memory != nil {
		switch m := *cd.Memory; {
		case m < minContainerMiB:
			c.ps.add(field(p, "memory"), strconv.Itoa(int(m)), "must be at least %d (MiB)", minContainerMiB)
		case c.taskMiB > 0 && int64(m) > c.taskMiB:
			c.ps.add(field(p, "memory"), strconv.Itoa(int(m)), "must not exceed the task's memory (%d MiB)", c.taskMiB)
		}
	}
	if r := cd.MemoryReservation; r != nil {
		switch {
		case *r <= 0:
			c.ps.add(field(p, "memoryReservation"), strconv.Itoa(int(*r)), "must be positive (MiB)")
		case cd.Memory != nil && *r > *cd.Memory:
			c.ps.add(field(p, "memoryReservation"), strconv.Itoa(int(*r)), "must not exceed memory (%d MiB)", *cd.Memory)
		}
	}
	if cd.Memory == nil && cd.MemoryReservation == nil && c.td.Memory == nil {
		c.ps.add(p, "", "needs memory or memoryReservation, or the task needs memory (ECS's rule for EC2)")
	}
	if cd.CPU != nil && *cd.CPU < 0 {
		c.ps.add(field(p, "cpu"), strconv.Itoa(int(*cd.CPU)), "must not be negative")
	}
}

// TaskCPU parses task-level cpu: CPU units ("1024") or vCPUs ("1 vCPU",
// "0.5 vcpu"), which ECS converts to units at registration.
func TaskCPU(s string) (int64, error) {
	const rule = "must be CPU units (\"1024\") or vCPUs (\"1 vCPU\") between 128 and 10240 units"
	t := strings.TrimSpace(s)
	units, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		num, ok := cutSuffixFold(t, "vcpu")
		if !ok {
			return 0, fmt.Errorf("%s", rule)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || v*1024 != math.Trunc(v*1024) {
			return 0, fmt.Errorf("%s", rule)
		}
		units = int64(v * 1024)
	}
	if units < 128 || units > 10240 {
		return 0, fmt.Errorf("%s", rule)
	}
	return units, nil
}

// TaskMemory parses task-level memory: MiB ("512") or GB ("1 GB", "0.5GB"),
// which ECS converts to MiB at registration.
func TaskMemory(s string) (int64, error) {
	const rule = "must be MiB (\"512\") or GB (\"1 GB\"), and positive"
	t := strings.TrimSpace(s)
	mib, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		num, ok := cutSuffixFold(t, "gb")
		if !ok {
			return 0, fmt.Errorf("%s", rule)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || v*1024 != math.Trunc(v*1024) {
			return 0, fmt.Errorf("%s", rule)
		}
		mib = int64(v * 1024)
	}
	if mib <= 0 {
		return 0, fmt.Errorf("%s", rule)
	}
	return mib, nil
}

func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) < len(suffix) || !strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s, false
	}
	return s[:len(s)-len(suffix)], true
}
