package taskdef

import (
	"strconv"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// ECS's health check defaults (seconds, tries), applied at registration.
const (
	defaultHealthInterval = 30
	defaultHealthTimeout  = 5
	defaultHealthRetries  = 3
)

// convert turns a checked definition into a TaskSpec, applying the
// defaults ECS applies at registration.
func convert(td *taskDefinition) apiv1.TaskSpec {
	spec := apiv1.TaskSpec{
		Family:           td.Family,
		NetworkMode:      td.NetworkMode,
		PidMode:          td.PidMode,
		IpcMode:          td.IpcMode,
		TaskRoleArn:      td.TaskRoleArn,
		ExecutionRoleArn: td.ExecutionRoleArn,
	}
	if spec.NetworkMode == "" {
		spec.NetworkMode = apiv1.NetworkModeBridge
	}
	// ECS stores task cpu and memory as units and MiB, whatever was written.
	if td.CPU != nil {
		units, _ := TaskCPU(*td.CPU)
		spec.CPU = strconv.FormatInt(units, 10)
	}
	if td.Memory != nil {
		mib, _ := TaskMemory(*td.Memory)
		spec.Memory = strconv.FormatInt(mib, 10)
	}
	for i := range td.ContainerDefinitions {
		spec.Containers = append(spec.Containers, convertContainer(&td.ContainerDefinitions[i], spec.NetworkMode))
	}
	for _, v := range td.Volumes {
		spec.Volumes = append(spec.Volumes, convertVolume(v))
	}
	return spec
}

func convertContainer(cd *containerDefinition, mode string) apiv1.ContainerSpec {
	c := apiv1.ContainerSpec{
		Name:                   cd.Name,
		Image:                  cd.Image,
		Command:                cd.Command,
		EntryPoint:             cd.EntryPoint,
		WorkingDirectory:       cd.WorkingDirectory,
		User:                   cd.User,
		Hostname:               cd.Hostname,
		Essential:              cd.Essential == nil || *cd.Essential,
		StopTimeout:            cd.StopTimeout,
		StartTimeout:           cd.StartTimeout,
		Memory:                 int64p(cd.Memory),
		MemoryReservation:      int64p(cd.MemoryReservation),
		DockerLabels:           cd.DockerLabels,
		Privileged:             cd.Privileged != nil && *cd.Privileged,
		ReadonlyRootFilesystem: cd.ReadonlyRootFilesystem != nil && *cd.ReadonlyRootFilesystem,
		Links:                  cd.Links,
		DNSServers:             cd.DNSServers,
		DNSSearchDomains:       cd.DNSSearchDomains,
		DockerSecurityOptions:  cd.DockerSecurityOptions,
		DisableNetworking:      isTrue(cd.DisableNetworking),
		Interactive:            isTrue(cd.Interactive),
		PseudoTerminal:         isTrue(cd.PseudoTerminal),
		LinuxParameters:        convertLinuxParameters(cd.LinuxParameters),
		// ECS's default is enabled.
		VersionConsistencyDisabled: cd.VersionConsistency == "disabled",
	}
	for _, h := range cd.ExtraHosts {
		c.ExtraHosts = append(c.ExtraHosts, apiv1.HostEntry{Hostname: h.Hostname, IPAddress: h.IPAddress})
	}
	for _, sc := range cd.SystemControls {
		c.SystemControls = append(c.SystemControls, apiv1.SystemControl{Namespace: sc.Namespace, Value: sc.Value})
	}
	if cd.CPU != nil {
		c.CPU = int64(*cd.CPU)
	}
	if rc := cd.RepositoryCredentials; rc != nil && rc.CredentialsParameter != "" {
		c.RepositoryCredentials = &apiv1.RepositoryCredentials{CredentialsParameter: rc.CredentialsParameter}
	}
	for _, kv := range cd.Environment {
		c.Environment = append(c.Environment, apiv1.KeyValue{Name: kv.Name, Value: kv.Value})
	}
	for _, s := range cd.Secrets {
		c.Secrets = append(c.Secrets, apiv1.Secret{Name: s.Name, ValueFrom: s.ValueFrom})
	}
	for _, pm := range cd.PortMappings {
		m := apiv1.PortMapping{ContainerPort: *pm.ContainerPort, Protocol: protocol(pm.Protocol)}
		if pm.HostPort != nil {
			m.HostPort = *pm.HostPort
		}
		if mode == apiv1.NetworkModeHost {
			m.HostPort = m.ContainerPort // what ECS records for host mode
		}
		c.PortMappings = append(c.PortMappings, m)
	}
	for _, d := range cd.DependsOn {
		c.DependsOn = append(c.DependsOn, apiv1.ContainerDependency{ContainerName: d.ContainerName, Condition: d.Condition})
	}
	for _, m := range cd.MountPoints {
		c.MountPoints = append(c.MountPoints, apiv1.MountPoint{SourceVolume: m.SourceVolume, ContainerPath: m.ContainerPath, ReadOnly: isTrue(m.ReadOnly)})
	}
	for _, vf := range cd.VolumesFrom {
		c.VolumesFrom = append(c.VolumesFrom, apiv1.VolumeFrom{SourceContainer: vf.SourceContainer, ReadOnly: isTrue(vf.ReadOnly)})
	}
	for _, u := range cd.Ulimits {
		c.Ulimits = append(c.Ulimits, apiv1.Ulimit{Name: u.Name, SoftLimit: int64(*u.SoftLimit), HardLimit: int64(*u.HardLimit)})
	}
	c.HealthCheck = convertHealthCheck(cd.HealthCheck)
	if lc := cd.LogConfiguration; lc != nil {
		c.LogConfiguration = &apiv1.LogConfiguration{LogDriver: lc.LogDriver, Options: lc.Options}
	}
	if rp := cd.RestartPolicy; rp != nil {
		c.RestartPolicy = &apiv1.RestartPolicy{Enabled: isTrue(rp.Enabled), IgnoredExitCodes: rp.IgnoredExitCodes}
		if rp.RestartAttemptPeriod != nil {
			c.RestartPolicy.RestartAttemptPeriod = *rp.RestartAttemptPeriod
		}
	}
	return c
}

// defaultSwappiness is what ECS applies when a container sets maxSwap
// without swappiness.
const defaultSwappiness = 60

func convertLinuxParameters(lp *linuxParameters) *apiv1.LinuxParameters {
	if lp == nil {
		return nil
	}
	out := &apiv1.LinuxParameters{
		InitProcessEnabled: isTrue(lp.InitProcessEnabled),
		SharedMemorySize:   int64p(lp.SharedMemorySize),
		MaxSwap:            int64p(lp.MaxSwap),
		Swappiness:         int64p(lp.Swappiness),
	}
	if out.MaxSwap != nil && out.Swappiness == nil {
		s := int64(defaultSwappiness)
		out.Swappiness = &s
	}
	if caps := lp.Capabilities; caps != nil && (len(caps.Add) > 0 || len(caps.Drop) > 0) {
		out.Capabilities = &apiv1.KernelCapabilities{Add: caps.Add, Drop: caps.Drop}
	}
	for _, d := range lp.Devices {
		out.Devices = append(out.Devices, apiv1.Device{HostPath: d.HostPath, ContainerPath: d.ContainerPath, Permissions: d.Permissions})
	}
	for _, t := range lp.Tmpfs {
		out.Tmpfs = append(out.Tmpfs, apiv1.Tmpfs{ContainerPath: t.ContainerPath, Size: int64(*t.Size), MountOptions: t.MountOptions})
	}
	return out
}

func convertHealthCheck(hc *healthCheck) *apiv1.HealthCheck {
	if hc == nil {
		return nil
	}
	return &apiv1.HealthCheck{
		Command:     hc.Command,
		Interval:    orDefault(hc.Interval, defaultHealthInterval),
		Timeout:     orDefault(hc.Timeout, defaultHealthTimeout),
		Retries:     orDefault(hc.Retries, defaultHealthRetries),
		StartPeriod: orDefault(hc.StartPeriod, 0),
	}
}

func convertVolume(v volume) apiv1.Volume {
	out := apiv1.Volume{Name: v.Name}
	if v.Host != nil {
		out.Host = &apiv1.HostVolume{SourcePath: v.Host.SourcePath}
	}
	if dv := v.DockerVolumeConfiguration; dv != nil {
		scope := dv.Scope
		if scope == "" {
			scope = "task" // ECS's default scope
		}
		out.DockerVolumeConfiguration = &apiv1.DockerVolumeConfiguration{
			Scope: scope, Autoprovision: isTrue(dv.Autoprovision), Driver: dv.Driver,
			DriverOpts: dv.DriverOpts, Labels: dv.Labels,
		}
	}
	return out
}

func int64p(v *int32) *int64 {
	if v == nil {
		return nil
	}
	n := int64(*v)
	return &n
}

func isTrue(b *bool) bool { return b != nil && *b }

func orDefault(v *int32, d int32) int32 {
	if v == nil {
		return d
	}
	return *v
}
