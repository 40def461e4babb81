package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// ECS label keys on the agent's containers (the ECS agent's own names).
const (
	LabelTaskARN       = "com.amazonaws.ecs.task-arn"
	LabelContainerName = "com.amazonaws.ecs.container-name"
	LabelCluster       = "com.amazonaws.ecs.cluster"
	LabelFamily        = "com.amazonaws.ecs.task-definition-family"
	LabelVersion       = "com.amazonaws.ecs.task-definition-version"
)

// DockerContainer is what `docker inspect` says of a container, as far as
// the tests care.
type DockerContainer struct {
	ID     string `json:"Id"`
	Name   string `json:"Name"`
	State  DockerState
	Config struct {
		Labels map[string]string
		Env    []string
	}
	NetworkSettings struct {
		Ports map[string][]struct {
			HostIP   string `json:"HostIp"`
			HostPort string `json:"HostPort"`
		}
	}
}

// DockerState is the State of `docker inspect`.
type DockerState struct {
	Status     string
	Running    bool
	ExitCode   int
	StartedAt  time.Time
	FinishedAt time.Time
	Health     *struct{ Status string }
}

// Started reports whether the container was ever started.
func (s DockerState) Started() bool { return s.StartedAt.Year() > 1 }

// docker runs the docker CLI and returns its stdout.
func docker(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Inspect returns what Docker knows of a container; ok is false when there
// is no such container.
func Inspect(id string) (c DockerContainer, ok bool, err error) {
	out, err := docker("container", "inspect", id)
	if err != nil {
		if strings.Contains(err.Error(), "No such") {
			return c, false, nil
		}
		return c, false, err
	}
	var cs []DockerContainer
	if err := json.Unmarshal(out, &cs); err != nil || len(cs) != 1 {
		return c, false, fmt.Errorf("decode docker inspect %s: %v: %.300s", id, err, out)
	}
	return cs[0], true, nil
}

// ContainerIDs lists the ids of all containers, running or not, carrying
// every one of the labels (key=value).
func ContainerIDs(labels ...string) ([]string, error) {
	args := []string{"ps", "-a", "-q", "--no-trunc"}
	for _, l := range labels {
		args = append(args, "--filter", "label="+l)
	}
	out, err := docker(args...)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// ClusterContainerIDs lists the containers of an agent's cluster.
func ClusterContainerIDs(cluster string) ([]string, error) {
	return ContainerIDs(LabelCluster + "=" + cluster)
}

// RemoveContainer removes a container by force, as an operator with the
// docker CLI would.
func RemoveContainer(id string) error {
	_, err := docker("rm", "-f", id)
	return err
}

// KillContainer sends a container SIGKILL with `docker kill`, as an
// operator would, within docker's time limit.
func KillContainer(id string) error {
	_, err := docker("kill", id)
	return err
}

// RemoveCluster removes every container and volume that carries the
// cluster label.
func RemoveCluster(cluster string) error {
	ids, err := ClusterContainerIDs(cluster)
	if err != nil {
		return err
	}
	// A few at a time: one `docker rm -f` of 200 running containers takes
	// longer than a docker call may.
	for batch := range slices.Chunk(ids, 20) {
		if _, err := docker(append([]string{"rm", "-f", "-v"}, batch...)...); err != nil {
			return err
		}
	}
	out, err := docker("volume", "ls", "-q", "--filter", "label="+LabelCluster+"="+cluster)
	if err != nil {
		return err
	}
	if vols := strings.Fields(string(out)); len(vols) > 0 {
		if _, err := docker(append([]string{"volume", "rm", "-f"}, vols...)...); err != nil {
			return err
		}
	}
	return nil
}

// DockerStats is one `docker stats --no-stream` reading of a container:
// CPU in percent of one CPU and memory in MiB, as the CLI shows them.
type DockerStats struct {
	At       time.Time
	CPU, MiB float64
}

// Stats reads a container's `docker stats --no-stream`.
func Stats(id string) (DockerStats, error) {
	out, err := docker("stats", "--no-stream", "--format", "{{.CPUPerc}}|{{.MemUsage}}", id)
	if err != nil {
		return DockerStats{}, err
	}
	s := DockerStats{At: time.Now()}
	cpu, mem, _ := strings.Cut(strings.TrimSpace(string(out)), "|")
	used, _, _ := strings.Cut(mem, " / ")
	if _, err := fmt.Sscanf(strings.TrimSuffix(cpu, "%"), "%g", &s.CPU); err != nil {
		return s, fmt.Errorf("docker stats of %s: CPU %q: %w", id, cpu, err)
	}
	units := map[string]float64{"KiB": 1.0 / 1024, "MiB": 1, "GiB": 1024, "B": 1.0 / (1 << 20)}
	for _, u := range []string{"KiB", "MiB", "GiB", "B"} {
		if v, ok := strings.CutSuffix(used, u); ok {
			if _, err := fmt.Sscanf(v, "%g", &s.MiB); err != nil {
				return s, fmt.Errorf("docker stats of %s: memory %q: %w", id, used, err)
			}
			s.MiB *= units[u]
			return s, nil
		}
	}
	return s, fmt.Errorf("docker stats of %s: memory %q in no unit known", id, used)
}
