package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// configInspect is what `docker inspect` says of the settings a task
// definition controls.
type configInspect struct {
	Config struct {
		Env        []string
		User       string
		WorkingDir string
		Labels     map[string]string
	}
	HostConfig struct {
		Memory         int64
		ReadonlyRootfs bool
		Ulimits        []struct {
			Name       string
			Soft, Hard int64
		}
	}
	Mounts []struct {
		Type, Name, Source, Destination string
		RW                              bool
	}
}

// TestContainerDefinitionSettingsReachDocker runs a task whose definition
// uses environment, user, workingDirectory, dockerLabels, ulimits,
// readonlyRootFilesystem, memory, a host-path volume, a task-scoped Docker
// volume and volumesFrom, and checks each in what Docker runs: the reader
// container can only print the host file through the volumes it got from
// the first container.
func TestContainerDefinitionSettingsReachDocker(t *testing.T) {
	t.Parallel()
	// A shared volume outlives its task: its name is this run's own, and it
	// is removed after the agent's cleanup has removed its containers
	// (cleanups run last registered first).
	shared := fmt.Sprintf("e2e-shared-%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = exec.Command("docker", "volume", "rm", "-f", shared).Run() })
	a := h.Start(t, h.Options{})
	hostDir := t.TempDir()
	msg := "hello from the host " + a.Cluster
	if err := os.WriteFile(filepath.Join(hostDir, "msg"), []byte(msg), 0o644); err != nil {
		t.Fatal(err)
	}
	a.WriteTask("config.json", fmt.Sprintf(`{
  "family": "config",
  "volumes": [
    {"name": "host", "host": {"sourcePath": %q}},
    {"name": "scratch"},
    {"name": %q, "dockerVolumeConfiguration": {"scope": "shared", "autoprovision": true, "driver": "local",
      "driverOpts": {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}, "labels": {"team": "e2e"}}}
  ],
  "containerDefinitions": [
    {
      "name": "env", "image": %q, "command": ["env"], "memory": 48, "essential": true,
      "environment": [{"name": "GREETING", "value": "hi there"}],
      "user": "1000:1000", "workingDirectory": "/scratch",
      "dockerLabels": {"team": "e2e"},
      "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 2048}],
      "readonlyRootFilesystem": true,
      "mountPoints": [
        {"sourceVolume": "host", "containerPath": "/host", "readOnly": true},
        {"sourceVolume": "scratch", "containerPath": "/scratch"},
        {"sourceVolume": %q, "containerPath": "/shared"}
      ]
    },
    {
      "name": "reader", "image": %q, "command": ["cat", "/host/msg"], "memory": 32, "essential": false,
      "volumesFrom": [{"sourceContainer": "env", "readOnly": true}],
      "dependsOn": [{"containerName": "env", "condition": "START"}]
    }
  ]
}`, hostDir, shared, h.TestImage, shared, h.TestImage))

	task := a.WaitTask(t, "config.json", startTimeout, func(task apiv1.Task) (bool, string) {
		if task.Status.KnownStatus != apiv1.StatusRunning {
			return false, "task not RUNNING"
		}
		r := task.Status.ContainerStatusFor("reader")
		return r != nil && r.KnownStatus == apiv1.StatusStopped, "reader not exited yet"
	})
	if r := h.Container(t, task, "reader"); r.ExitCode == nil || *r.ExitCode != 0 {
		t.Fatalf("reader exited %v (reason %q); want 0: it reads /host/msg through volumesFrom", r.ExitCode, r.Reason)
	}
	envID := h.Container(t, task, "env").DockerID
	readerID := h.Container(t, task, "reader").DockerID
	if out := logs(t, readerID); out != msg {
		t.Errorf("reader printed %q, want the host file's %q", out, msg)
	}
	if out := logs(t, envID); !strings.Contains(out, "GREETING=hi there\n") {
		t.Errorf("env printed no GREETING=hi there:\n%s", out)
	}

	c := inspectConfig(t, envID)
	if c.Config.User != "1000:1000" || c.Config.WorkingDir != "/scratch" || c.Config.Labels["team"] != "e2e" {
		t.Errorf("user %q, workdir %q, label team %q; want 1000:1000, /scratch, e2e", c.Config.User, c.Config.WorkingDir, c.Config.Labels["team"])
	}
	if c.HostConfig.Memory != 48<<20 || !c.HostConfig.ReadonlyRootfs {
		t.Errorf("memory %d, read-only rootfs %v; want %d, true", c.HostConfig.Memory, c.HostConfig.ReadonlyRootfs, 48<<20)
	}
	if u := c.HostConfig.Ulimits; len(u) != 1 || u[0].Name != "nofile" || u[0].Soft != 1024 || u[0].Hard != 2048 {
		t.Errorf("ulimits %+v, want nofile 1024/2048", u)
	}
	var mounts []string
	for _, m := range c.Mounts {
		src := m.Source
		if m.Type == "volume" {
			src = "volume " + m.Name
		}
		mounts = append(mounts, fmt.Sprintf("%s %s rw=%v", src, m.Destination, m.RW))
	}
	slices.Sort(mounts)
	want := []string{
		fmt.Sprintf("%s /host rw=false", hostDir),
		fmt.Sprintf("volume %s /shared rw=true", shared),
		fmt.Sprintf("volume ecs-%s-scratch /scratch rw=true", task.Name),
	}
	if !slices.Equal(mounts, want) {
		t.Errorf("env mounts %q, want %q", mounts, want)
	}
	if got := c.Config.Labels[h.LabelFamily] + ":" + c.Config.Labels[h.LabelVersion]; got != "config:1" {
		t.Errorf("family and revision labels %q, want config:1", got)
	}
	checkSharedVolume(t, shared)
	checkV1Volumes(t, a, task, c)
}

// checkSharedVolume checks a dockerVolumeConfiguration reached Docker: the
// driver, its options and the labels.
func checkSharedVolume(t *testing.T, name string) {
	t.Helper()
	out, err := exec.Command("docker", "volume", "inspect", name).Output()
	if err != nil {
		t.Fatalf("docker volume inspect %s: %v", name, err)
	}
	var vs []struct {
		Driver  string
		Options map[string]string
		Labels  map[string]string
	}
	if err := json.Unmarshal(out, &vs); err != nil || len(vs) != 1 {
		t.Fatalf("decode docker volume inspect %s: %v", name, err)
	}
	v := vs[0]
	if v.Driver != "local" || v.Options["type"] != "tmpfs" || v.Options["o"] != "size=1m" || v.Labels["team"] != "e2e" {
		t.Errorf("volume %s: driver %q options %v labels %v; want local, tmpfs size=1m, team=e2e", name, v.Driver, v.Options, v.Labels)
	}
}

// checkV1Volumes compares the env container's Volumes in /v1/tasks with
// Docker's mounts (DockerName is the volume's name, empty for a host path),
// and checks its times are UTC RFC 3339.
func checkV1Volumes(t *testing.T, a *h.Agent, task apiv1.Task, c configInspect) {
	t.Helper()
	v1, err := a.V1Tasks()
	if err != nil {
		t.Fatal(err)
	}
	var env *h.IntrospectionContainer
	for _, vt := range v1.Tasks {
		for i := range vt.Containers {
			if vt.Arn == task.Spec.Arn && vt.Containers[i].Name == "env" {
				env = &vt.Containers[i]
			}
		}
	}
	if env == nil {
		t.Fatalf("/v1/tasks has no container env of %s: %+v", task.Spec.Arn, v1)
	}
	var got, want []string
	for _, v := range env.Volumes {
		got = append(got, fmt.Sprintf("%s|%s|%s", v.DockerName, v.Source, v.Destination))
	}
	for _, m := range c.Mounts {
		want = append(want, fmt.Sprintf("%s|%s|%s", m.Name, m.Source, m.Destination))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("/v1/tasks Volumes %q, want Docker's mounts %q", got, want)
	}
	for _, ts := range []string{env.CreatedAt, env.StartedAt} {
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") {
			t.Errorf("/v1/tasks time %q: want UTC RFC 3339 (%v)", ts, err)
		}
	}
	if env.Image != h.TestImage || !strings.HasPrefix(env.ImageID, "sha256:") {
		t.Errorf("/v1/tasks Image %q ImageID %q, want %s and its id", env.Image, env.ImageID, h.TestImage)
	}
}

func logs(t *testing.T, id string) string {
	t.Helper()
	out, err := exec.Command("docker", "logs", id).CombinedOutput()
	if err != nil {
		t.Fatalf("docker logs %s: %v: %s", id, err, out)
	}
	return string(out)
}

func inspectConfig(t *testing.T, id string) configInspect {
	t.Helper()
	out, err := exec.Command("docker", "container", "inspect", id).Output()
	if err != nil {
		t.Fatalf("docker inspect %s: %v", id, err)
	}
	var cs []configInspect
	if err := json.Unmarshal(out, &cs); err != nil || len(cs) != 1 {
		t.Fatalf("decode docker inspect %s: %v", id, err)
	}
	return cs[0]
}
