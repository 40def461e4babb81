package controllers

import (
	"reflect"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

const configTaskARN = "arn:aws:ecs:local:000000000000:task/test/cfg"

func configRun(networkMode string) *taskRun {
	task := &apiv1.Task{Spec: apiv1.TaskSpec{
		Arn: configTaskARN, Family: "fam", Revision: 3, NetworkMode: networkMode,
		Volumes: []apiv1.Volume{
			{Name: "logs", Host: &apiv1.HostVolume{SourcePath: "/var/log/app"}},
			{Name: "scratch"},
		},
	}}
	task.Name = "cfg"
	task.Status.Containers = []apiv1.ContainerStatus{{Name: "init", DockerID: "abc123"}}
	return &taskRun{r: &TaskReconciler{Opts: TaskOptions{Cluster: "prod"}}, task: task}
}

func TestContainerDefinitionBecomesTheCreateConfig(t *testing.T) {
	spec := &apiv1.ContainerSpec{
		Name: "web", Image: "example/web:2",
		Command: []string{"serve"}, EntryPoint: []string{"/app"},
		Environment:      []apiv1.KeyValue{{Name: "A", Value: "1"}, {Name: "B", Value: "x=y"}},
		WorkingDirectory: "/srv", User: "1000", Hostname: "web",
		StopTimeout: ptr.To[int32](40),
		CPU:         512, Memory: ptr.To[int64](128), MemoryReservation: ptr.To[int64](64),
		MountPoints: []apiv1.MountPoint{
			{SourceVolume: "logs", ContainerPath: "/logs"},
			{SourceVolume: "scratch", ContainerPath: "/scratch", ReadOnly: true},
			{SourceVolume: "undeclared", ContainerPath: "/nowhere"},
		},
		VolumesFrom:      []apiv1.VolumeFrom{{SourceContainer: "init", ReadOnly: true}, {SourceContainer: "not-created-yet"}},
		HealthCheck:      &apiv1.HealthCheck{Command: []string{"CMD", "/check"}, Interval: 5, Timeout: 2, Retries: 3, StartPeriod: 10},
		LogConfiguration: &apiv1.LogConfiguration{LogDriver: "json-file", Options: map[string]string{"max-size": "1m"}},
		// A definition cannot forge the labels the agent finds its
		// containers by.
		DockerLabels:           map[string]string{"team": "x", dockerstate.LabelCluster: "forged"},
		Privileged:             true,
		ReadonlyRootFilesystem: true,
		Ulimits:                []apiv1.Ulimit{{Name: "nofile", SoftLimit: 1024, HardLimit: 2048}},
	}
	bindings := []apiv1.PortBinding{{ContainerPort: 8080, HostPort: 40001, Protocol: "tcp", BindIP: "0.0.0.0"}}
	got := configRun("").containerConfig(spec, bindings)

	if got.Name != "" {
		t.Errorf("name %q; want none: create sets the name it persisted first", got.Name)
	}
	labels := dockerstate.LabelsFor(configTaskARN, "web", "fam", 3, "prod")
	labels["team"] = "x"
	want := dockerstate.CreateConfig{
		Image: "example/web:2", Command: []string{"serve"}, EntryPoint: []string{"/app"},
		Env: []string{"A=1", "B=x=y"}, Labels: labels,
		User: "1000", WorkingDir: "/srv", Hostname: "web",
		StopTimeout: ptr.To(40 * time.Second),
		HealthCheck: &dockerstate.HealthCheck{
			Test:     []string{"CMD", "/check"},
			Interval: 5 * time.Second, Timeout: 2 * time.Second, StartPeriod: 10 * time.Second, Retries: 3,
		},
		NetworkMode: apiv1.NetworkModeBridge, Privileged: true, ReadonlyRootfs: true,
		Mounts: []dockerstate.Mount{
			{Source: "/var/log/app", Target: "/logs"},
			{Source: "ecs-cfg-scratch", Target: "/scratch", ReadOnly: true},
		},
		VolumesFrom: []dockerstate.VolumesFrom{{Container: "abc123", ReadOnly: true}},
		Resources:   dockerstate.Resources{CPUShares: 512, Memory: 128 << 20, MemoryReservation: 64 << 20},
		Ulimits:     []dockerstate.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}},
		LogConfig:   &dockerstate.LogConfig{Driver: "json-file", Options: map[string]string{"max-size": "1m"}},
		Ports:       []dockerstate.PortBinding{{ContainerPort: 8080, HostPort: 40001, Protocol: "tcp"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("create config:\n got %+v\nwant %+v", got, want)
	}
}

func TestHostModeContainerPublishesNoPortsAndGetsMinimumCPUShares(t *testing.T) {
	spec := &apiv1.ContainerSpec{Name: "web", Image: "example/web:2", CPU: 0}
	bindings := []apiv1.PortBinding{{ContainerPort: 8080, HostPort: 8080, Protocol: "tcp"}}
	got := configRun(apiv1.NetworkModeHost).containerConfig(spec, bindings)
	if got.NetworkMode != apiv1.NetworkModeHost || got.Ports != nil {
		t.Errorf("network mode %q, ports %+v; want host and none published", got.NetworkMode, got.Ports)
	}
	if got.Resources.CPUShares != minimumCPUShares || got.Resources.Memory != 0 {
		t.Errorf("resources %+v; want %d CPU shares and no memory limit", got.Resources, minimumCPUShares)
	}
}
