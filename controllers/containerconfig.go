package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/utils/ptr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// minimumCPUShares is what the ECS agent gives a container with cpu 0 or 1:
// Docker refuses 1 share and reads 0 as its default of 1024.
const minimumCPUShares = 2

// containerConfig describes the container Docker creates for a container
// definition, the way the ECS agent configures it.
func (t *taskRun) containerConfig(c *apiv1.ContainerSpec, bindings []apiv1.PortBinding) dockerstate.CreateConfig {
	spec := &t.task.Spec
	labels := map[string]string{}
	for k, v := range c.DockerLabels {
		labels[k] = v
	}
	// The ECS labels are set last so a task definition cannot forge them.
	for k, v := range dockerstate.LabelsFor(spec.Arn, c.Name, spec.Family, spec.Revision, t.r.Opts.Cluster) {
		labels[k] = v
	}
	// Name is the caller's: it is persisted before the create (see create).
	cfg := dockerstate.CreateConfig{
		Image:          c.Image,
		Command:        c.Command,
		EntryPoint:     c.EntryPoint,
		Env:            environment(c),
		WorkingDir:     c.WorkingDirectory,
		User:           c.User,
		Hostname:       c.Hostname,
		Labels:         labels,
		NetworkMode:    networkMode(spec.NetworkMode),
		Privileged:     c.Privileged,
		ReadonlyRootfs: c.ReadonlyRootFilesystem,
		Mounts:         t.mounts(c),
		VolumesFrom:    t.volumesFrom(c),
		Resources:      resources(c),
	}
	t.applySettings(c, &cfg)
	if c.StopTimeout != nil {
		cfg.StopTimeout = ptr.To(seconds(*c.StopTimeout))
	}
	if hc := c.HealthCheck; hc != nil {
		cfg.HealthCheck = &dockerstate.HealthCheck{
			Test:        hc.Command,
			Interval:    seconds(hc.Interval),
			Timeout:     seconds(hc.Timeout),
			Retries:     int(hc.Retries),
			StartPeriod: seconds(hc.StartPeriod),
		}
	}
	for _, u := range c.Ulimits {
		cfg.Ulimits = append(cfg.Ulimits, dockerstate.Ulimit{Name: u.Name, Soft: u.SoftLimit, Hard: u.HardLimit})
	}
	if lc := c.LogConfiguration; lc != nil {
		cfg.LogConfig = &dockerstate.LogConfig{Driver: lc.LogDriver, Options: lc.Options}
	}
	// Only the bridge network has ports to publish: a container on the
	// host's network binds the host's ports itself.
	if cfg.NetworkMode == apiv1.NetworkModeBridge {
		for _, b := range bindings {
			cfg.Ports = append(cfg.Ports, dockerstate.PortBinding{ContainerPort: b.ContainerPort, HostPort: b.HostPort, Protocol: b.Protocol})
		}
	}
	return cfg
}

// resources are the container's cgroup limits: cpu units as CPU shares, at
// least minimumCPUShares, and memory in MiB.
func resources(c *apiv1.ContainerSpec) dockerstate.Resources {
	r := dockerstate.Resources{CPUShares: max(c.CPU, minimumCPUShares)}
	if c.Memory != nil {
		r.Memory = *c.Memory << 20
	}
	if c.MemoryReservation != nil {
		r.MemoryReservation = *c.MemoryReservation << 20
	}
	return r
}

func networkMode(m string) string {
	if m == "" {
		return apiv1.NetworkModeBridge
	}
	return m
}

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }

func environment(c *apiv1.ContainerSpec) []string {
	env := make([]string, 0, len(c.Environment))
	for _, kv := range c.Environment {
		env = append(env, kv.Name+"="+kv.Value)
	}
	return env
}

// mounts turns mount points into bind mounts: of a host path, or of the
// Docker volume behind the task volume.
func (t *taskRun) mounts(c *apiv1.ContainerSpec) []dockerstate.Mount {
	var out []dockerstate.Mount
	for _, mp := range c.MountPoints {
		var src string
		for i := range t.task.Spec.Volumes {
			v := &t.task.Spec.Volumes[i]
			if v.Name != mp.SourceVolume {
				continue
			}
			if name, _ := t.dockerVolume(v); name != "" {
				src = name
			} else {
				src = v.Host.SourcePath
			}
		}
		if src == "" {
			continue // the definition's validation names the unknown volume
		}
		out = append(out, dockerstate.Mount{Source: src, Target: mp.ContainerPath, ReadOnly: mp.ReadOnly})
	}
	return out
}

func (t *taskRun) volumesFrom(c *apiv1.ContainerSpec) []dockerstate.VolumesFrom {
	var out []dockerstate.VolumesFrom
	for _, vf := range c.VolumesFrom {
		ds := t.task.Status.ContainerStatusFor(vf.SourceContainer)
		if ds == nil || ds.DockerID == "" {
			continue
		}
		out = append(out, dockerstate.VolumesFrom{Container: ds.DockerID, ReadOnly: vf.ReadOnly})
	}
	return out
}

// agentEnvironment is what the agent adds to a container's environment, as
// the ECS agent and ECS do (../shared/protocols/TMDS.md §1): the container's
// task metadata endpoints, the task role's credentials path when the task
// has a task role, AWS_EXECUTION_ENV unless the definition sets it, and the
// region unless the definition or the image sets it. The endpoints and the
// credentials path come last, so they win over the definition's, as in
// ECS.
func (t *taskRun) agentEnvironment(ctx context.Context, c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus) ([]string, error) {
	var env []string
	if !definesEnv(c.Environment, apiv1.EnvExecutionEnv) {
		env = append(env, apiv1.EnvExecutionEnv+"="+apiv1.ExecutionEnvEC2)
	}
	if region := t.r.Opts.Region; region != "" && !definesEnv(c.Environment, apiv1.EnvRegion, apiv1.EnvDefaultRegion) {
		imageEnv, err := t.r.Docker.ImageEnv(ctx, c.Image)
		if err != nil {
			return nil, fmt.Errorf("read the environment of image %s: %w", c.Image, err)
		}
		for _, name := range []string{apiv1.EnvRegion, apiv1.EnvDefaultRegion} {
			if !slices.ContainsFunc(imageEnv, func(kv string) bool { return strings.HasPrefix(kv, name+"=") }) {
				env = append(env, name+"="+region)
			}
		}
	}
	if cs.MetadataID != "" {
		env = append(env,
			apiv1.EnvMetadataURI+"="+apiv1.MetadataURI("v3", cs.MetadataID),
			apiv1.EnvMetadataURIV4+"="+apiv1.MetadataURI("v4", cs.MetadataID))
	}
	if t.creds != nil && t.creds.taskID != "" {
		env = append(env, apiv1.EnvCredentialsRelativeURI+"="+apiv1.CredentialsRelativeURI(t.creds.taskID))
	}
	return env, nil
}

// definesEnv reports whether the definition's environment sets any of the
// names.
func definesEnv(env []apiv1.KeyValue, names ...string) bool {
	return slices.ContainsFunc(env, func(kv apiv1.KeyValue) bool { return slices.Contains(names, kv.Name) })
}
