package fakeecs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-agent/ecs-agent/internal/acs"
	"github.com/ecs-agent/ecs-agent/internal/ecswire"
)

// acsTask is a task as ACS pushes it, built from the task and its definition the way ECS builds
// it: the definition's members that the ACS Container shape has, the rest as Docker Engine JSON
// in dockerConfig, the overrides applied (environment merged, cpu and memory replaced, the
// command in the container's overrides JSON), and role credentials for the task's roles; callers
// hold f.mu.
func (f *Fake) acsTask(t *types.Task) acs.Task {
	out := acs.Task{
		Arn:            deref(t.TaskArn),
		TaskClusterArn: deref(t.ClusterArn),
		DesiredStatus:  deref(t.DesiredStatus),
		LaunchType:     string(t.LaunchType),
		Group:          deref(t.Group),
	}
	if t.Overrides != nil {
		if b, err := ecswire.Marshal(t.Overrides); err == nil {
			out.Overrides = ptr(string(b))
		}
	}
	td, err := f.taskDef(deref(t.TaskDefinitionArn))
	if err != nil {
		return out
	}
	def := td.def
	out.Family, out.Version = deref(def.Family), strconv.Itoa(int(def.Revision))
	out.NetworkMode, out.PidMode, out.IpcMode = string(def.NetworkMode), string(def.PidMode), string(def.IpcMode)
	if units, err := strconv.ParseFloat(deref(def.Cpu), 64); err == nil {
		out.CPU = ptr(units / 1024)
	}
	if mib, err := strconv.ParseInt(deref(def.Memory), 10, 64); err == nil {
		out.Memory = ptr(mib)
	}
	for _, v := range def.Volumes {
		out.Volumes = append(out.Volumes, acsVolume(v))
	}
	o := t.Overrides
	if o == nil {
		o = &types.TaskOverride{}
	}
	for _, cd := range def.ContainerDefinitions {
		out.Containers = append(out.Containers, acsContainer(cd, containerOverride(o, deref(cd.Name)), containerNamed(t, deref(cd.Name))))
	}
	role, exec := deref(def.TaskRoleArn), deref(def.ExecutionRoleArn)
	if v := deref(o.TaskRoleArn); v != "" {
		role = v
	}
	if v := deref(o.ExecutionRoleArn); v != "" {
		exec = v
	}
	if role != "" {
		out.RoleCredentials = f.roleCredentials(out.Arn, acs.RoleTypeTaskApplication, role, false)
	}
	if exec != "" {
		out.ExecutionRoleCredentials = f.roleCredentials(out.Arn, acs.RoleTypeTaskExecution, exec, false)
	}
	return out
}

func containerOverride(o *types.TaskOverride, name string) types.ContainerOverride {
	for _, co := range o.ContainerOverrides {
		if deref(co.Name) == name {
			return co
		}
	}
	return types.ContainerOverride{}
}

func acsContainer(cd types.ContainerDefinition, co types.ContainerOverride, ct *types.Container) acs.Container {
	c := acs.Container{
		Name: deref(cd.Name), Image: deref(cd.Image), Command: cd.Command, EntryPoint: cd.EntryPoint,
		Essential: cd.Essential == nil || *cd.Essential, Privileged: cd.Privileged,
		StartTimeout: cd.StartTimeout, StopTimeout: cd.StopTimeout, Links: cd.Links, CredentialSpecs: cd.CredentialSpecs,
	}
	if ct != nil {
		c.ContainerArn = deref(ct.ContainerArn)
	}
	c.CPU = ptr(int64(cd.Cpu))
	if co.Cpu != nil {
		c.CPU = ptr(int64(*co.Cpu))
	}
	if m := cd.Memory; co.Memory != nil || m != nil {
		c.Memory = ptr(int64(deref(m)))
		if co.Memory != nil {
			c.Memory = ptr(int64(*co.Memory))
		}
	}
	if len(cd.Environment)+len(co.Environment) > 0 {
		c.Environment = map[string]string{}
		for _, kv := range append(cd.Environment, co.Environment...) {
			c.Environment[deref(kv.Name)] = deref(kv.Value)
		}
	}
	if co.Command != nil {
		b, _ := json.Marshal(acs.ContainerOverrides{Command: co.Command})
		c.Overrides = ptr(string(b))
	}
	for _, pm := range cd.PortMappings {
		c.PortMappings = append(c.PortMappings, acs.PortMapping{ContainerPort: pm.ContainerPort, HostPort: pm.HostPort,
			ContainerPortRange: deref(pm.ContainerPortRange), Protocol: string(pm.Protocol)})
	}
	for _, mp := range cd.MountPoints {
		c.MountPoints = append(c.MountPoints, acs.MountPoint{SourceVolume: deref(mp.SourceVolume), ContainerPath: deref(mp.ContainerPath), ReadOnly: deref(mp.ReadOnly)})
	}
	for _, vf := range cd.VolumesFrom {
		c.VolumesFrom = append(c.VolumesFrom, acs.VolumeFrom{SourceContainer: deref(vf.SourceContainer), ReadOnly: deref(vf.ReadOnly)})
	}
	for _, d := range cd.DependsOn {
		c.DependsOn = append(c.DependsOn, acs.ContainerDependency{ContainerName: deref(d.ContainerName), Condition: string(d.Condition)})
	}
	for _, s := range cd.Secrets {
		c.Secrets = append(c.Secrets, acs.Secret{Name: deref(s.Name), ValueFrom: deref(s.ValueFrom), Type: "ENVIRONMENT_VARIABLE", Target: "CONTAINER"})
	}
	if rp := cd.RestartPolicy; rp != nil {
		c.RestartPolicy = &acs.RestartPolicy{Enabled: deref(rp.Enabled), IgnoredExitCodes: rp.IgnoredExitCodes, RestartAttemptPeriod: rp.RestartAttemptPeriod}
	}
	if rc := cd.RepositoryCredentials; rc != nil {
		c.RegistryAuthentication = &acs.RegistryAuthentication{Type: "asm", ASMAuthData: &acs.ASMAuthData{CredentialsParameter: deref(rc.CredentialsParameter)}}
	}
	c.LinuxParameters = rawWire(cd.LinuxParameters)
	c.EnvironmentFiles = rawWire(cd.EnvironmentFiles)
	c.FirelensConfiguration = rawWire(cd.FirelensConfiguration)
	c.ResourceRequirements = rawWire(cd.ResourceRequirements)
	if cd.HealthCheck != nil {
		c.HealthCheckType = "docker"
	}
	c.DockerConfig = dockerConfig(cd, co)
	return c
}

// dockerConfig writes what the ACS Container shape has no member for as Docker Engine JSON.
func dockerConfig(cd types.ContainerDefinition, co types.ContainerOverride) *acs.DockerConfig {
	cfg := acs.DockerContainerConfig{
		Labels: cd.DockerLabels, User: deref(cd.User), WorkingDir: deref(cd.WorkingDirectory), Hostname: deref(cd.Hostname),
	}
	if hc := cd.HealthCheck; hc != nil {
		sec := func(v *int32, d int32) int64 {
			if v == nil {
				return int64(d) * int64(time.Second)
			}
			return int64(*v) * int64(time.Second)
		}
		cfg.Healthcheck = &acs.DockerHealthcheck{Test: hc.Command, Interval: sec(hc.Interval, 30), Timeout: sec(hc.Timeout, 5),
			StartPeriod: sec(hc.StartPeriod, 0), Retries: int(deref(hc.Retries))}
		if hc.Retries == nil {
			cfg.Healthcheck.Retries = 3
		}
	}
	host := acs.DockerHostConfig{ReadonlyRootfs: deref(cd.ReadonlyRootFilesystem), DNS: cd.DnsServers, DNSSearch: cd.DnsSearchDomains,
		SecurityOpt: cd.DockerSecurityOptions}
	if lc := cd.LogConfiguration; lc != nil {
		host.LogConfig = &acs.DockerLogConfig{Type: string(lc.LogDriver), Config: lc.Options}
	}
	for _, u := range cd.Ulimits {
		host.Ulimits = append(host.Ulimits, acs.DockerUlimit{Name: string(u.Name), Soft: int64(u.SoftLimit), Hard: int64(u.HardLimit)})
	}
	if r := cd.MemoryReservation; r != nil || co.MemoryReservation != nil {
		mib := int64(deref(r))
		if co.MemoryReservation != nil {
			mib = int64(*co.MemoryReservation)
		}
		host.MemoryReservation = mib << 20
	}
	for _, h := range cd.ExtraHosts {
		host.ExtraHosts = append(host.ExtraHosts, deref(h.Hostname)+":"+deref(h.IpAddress))
	}
	for _, sc := range cd.SystemControls {
		if host.Sysctls == nil {
			host.Sysctls = map[string]string{}
		}
		host.Sysctls[deref(sc.Namespace)] = deref(sc.Value)
	}
	cb, _ := json.Marshal(cfg)
	hb, _ := json.Marshal(host)
	return &acs.DockerConfig{Version: ptr("1.19"), Config: ptr(string(cb)), HostConfig: ptr(string(hb))}
}

func acsVolume(v types.Volume) acs.Volume {
	out := acs.Volume{Name: deref(v.Name)}
	switch {
	case v.DockerVolumeConfiguration != nil:
		d := v.DockerVolumeConfiguration
		out.Type = acs.VolumeTypeDocker
		out.DockerVolumeConfiguration = &acs.DockerVolumeConfiguration{Scope: string(d.Scope), Autoprovision: deref(d.Autoprovision),
			Driver: deref(d.Driver), DriverOpts: d.DriverOpts, Labels: d.Labels}
	case v.EfsVolumeConfiguration != nil:
		out.Type, out.EFSVolumeConfiguration = "efs", rawWire(v.EfsVolumeConfiguration)
	case v.FsxWindowsFileServerVolumeConfiguration != nil:
		out.Type, out.FSxWindowsFileServerVolumeConfiguration = "fsxWindowsFileServer", rawWire(v.FsxWindowsFileServerVolumeConfiguration)
	default:
		// No configuration: a host volume, Docker-managed when it has no source path.
		out.Type = acs.VolumeTypeHost
		out.Host = &acs.HostVolumeProperties{}
		if v.Host != nil {
			out.Host.SourcePath = deref(v.Host.SourcePath)
		}
	}
	return out
}

// rawWire is an SDK value in its wire JSON, nil when absent.
func rawWire[T any](v T) json.RawMessage {
	b, err := ecswire.Marshal(v)
	if err != nil || string(b) == "null" || string(b) == "[]" || string(b) == "{}" {
		return nil
	}
	return b
}

// roleCredentials returns the task's credentials of a role, new ones when renew is set or none
// exist; callers hold f.mu.
func (f *Fake) roleCredentials(taskARN, roleType, roleARN string, renew bool) *acs.IAMRoleCredentials {
	key := taskARN + "|" + roleType
	if c, ok := f.acs.creds[key]; ok && !renew {
		return ptr(*c)
	}
	c := &acs.IAMRoleCredentials{
		CredentialsID: newUUID(), RoleArn: roleARN,
		AccessKeyID: "ASIA" + newID()[:16], SecretAccessKey: newID(), SessionToken: newID() + newID(),
		Expiration: f.now().UTC().Add(6 * time.Hour).Format(time.RFC3339), CredentialScope: "task",
	}
	if prev, ok := f.acs.creds[key]; ok && roleARN == "" {
		c.RoleArn = prev.RoleArn
	}
	if c.RoleArn == "" {
		return nil
	}
	f.acs.creds[key] = c
	return ptr(*c)
}

// roleTypeOK names the role types ACS sends.
func roleTypeOK(rt string) error {
	if rt != acs.RoleTypeTaskApplication && rt != acs.RoleTypeTaskExecution {
		return fmt.Errorf("roleType %q: want %s or %s", rt, acs.RoleTypeTaskApplication, acs.RoleTypeTaskExecution)
	}
	return nil
}
