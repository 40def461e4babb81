package controllers

import (
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// minimumCPUShares is what the ECS agent gives a container with cpu 0 or 1:
// Docker refuses 1 share and reads 0 as its default of 1024.
const minimumCPUShares = 2

// containerConfig translates a container definition into Docker's create
// call, the way the ECS agent does.
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
	cfg := &container.Config{
		Image:      c.Image,
		Cmd:        c.Command,
		Entrypoint: c.EntryPoint,
		Env:        environment(c),
		WorkingDir: c.WorkingDirectory,
		User:       c.User,
		Hostname:   c.Hostname,
		Labels:     labels,
	}
	if c.StopTimeout != nil {
		s := int(*c.StopTimeout)
		cfg.StopTimeout = &s
	}
	if hc := c.HealthCheck; hc != nil {
		cfg.Healthcheck = &container.HealthConfig{
			Test:        hc.Command,
			Interval:    seconds(hc.Interval),
			Timeout:     seconds(hc.Timeout),
			Retries:     int(hc.Retries),
			StartPeriod: seconds(hc.StartPeriod),
		}
	}
	host := &container.HostConfig{
		NetworkMode:    container.NetworkMode(networkMode(spec.NetworkMode)),
		Privileged:     c.Privileged,
		ReadonlyRootfs: c.ReadonlyRootFilesystem,
		Binds:          t.binds(c),
		VolumesFrom:    t.volumesFrom(c),
	}
	host.CPUShares = max(c.CPU, minimumCPUShares)
	if c.Memory != nil {
		host.Memory = *c.Memory << 20
	}
	if c.MemoryReservation != nil {
		host.MemoryReservation = *c.MemoryReservation << 20
	}
	for _, u := range c.Ulimits {
		host.Ulimits = append(host.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.SoftLimit, Hard: u.HardLimit})
	}
	if lc := c.LogConfiguration; lc != nil {
		host.LogConfig = container.LogConfig{Type: lc.LogDriver, Config: lc.Options}
	}
	if host.NetworkMode == apiv1.NetworkModeBridge {
		cfg.ExposedPorts, host.PortBindings = publish(bindings)
	}
	return dockerstate.CreateConfig{
		Name:       dockerstate.ContainerName(spec.Family, spec.Revision, c.Name),
		Config:     cfg,
		HostConfig: host,
	}
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

func publish(bindings []apiv1.PortBinding) (network.PortSet, network.PortMap) {
	if len(bindings) == 0 {
		return nil, nil
	}
	exposed := network.PortSet{}
	pm := network.PortMap{}
	for _, b := range bindings {
		p, ok := network.PortFrom(uint16(b.ContainerPort), network.IPProtocol(b.Protocol))
		if !ok {
			continue
		}
		exposed[p] = struct{}{}
		pm[p] = append(pm[p], network.PortBinding{HostPort: strconv.Itoa(int(b.HostPort))})
	}
	return exposed, pm
}

// binds turns mount points into Docker binds: a host path, or the Docker
// volume behind the task volume.
func (t *taskRun) binds(c *apiv1.ContainerSpec) []string {
	var out []string
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
		b := src + ":" + mp.ContainerPath
		if mp.ReadOnly {
			b += ":ro"
		}
		out = append(out, b)
	}
	return out
}

func (t *taskRun) volumesFrom(c *apiv1.ContainerSpec) []string {
	var out []string
	for _, vf := range c.VolumesFrom {
		ds := t.task.Status.ContainerStatusFor(vf.SourceContainer)
		if ds == nil || ds.DockerID == "" {
			continue
		}
		v := ds.DockerID
		if vf.ReadOnly {
			v += ":ro"
		}
		out = append(out, v)
	}
	return out
}
