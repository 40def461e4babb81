package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// dockerContainer is one line of `docker ps -a` for the agent's cluster.
type dockerContainer struct {
	id, state string
	// arn and name are the ECS labels: the task and the container of the
	// task definition.
	arn, name string
	// hostPorts are "tcp/41000" keys, once each (Docker lists IPv4 and
	// IPv6 bindings of one port separately).
	hostPorts []string
}

func (c dockerContainer) running() bool { return c.state == "running" }

// observation is one look at the agent and at Docker.
type observation struct {
	tasks      []apiv1.Task
	ports      []apiv1.PortAllocation
	containers []dockerContainer
}

var hostPortRE = regexp.MustCompile(`:(\d+)->\d+/(tcp|udp)`)

// observe reads the agent's tasks and port allocations through its CLI and
// the cluster's containers through the docker CLI.
func observe(a *h.ECSAgent) (observation, error) {
	var o observation
	var err error
	if o.tasks, err = a.Tasks(); err != nil {
		return o, err
	}
	out, err := a.CLI("get", "ports", "-o", "json")
	if err != nil {
		return o, err
	}
	var ports apiv1.PortAllocationList
	if err := json.Unmarshal(out, &ports); err != nil {
		return o, fmt.Errorf("decode `get ports -o json`: %w: %.200s", err, out)
	}
	o.ports = ports.Items
	o.containers, err = clusterContainers(a.Cluster)
	return o, err
}

func clusterContainers(cluster string) ([]dockerContainer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	format := fmt.Sprintf(`{{.ID}}\t{{.State}}\t{{.Label %q}}\t{{.Label %q}}\t{{.Ports}}`, h.LabelTaskARN, h.LabelContainerName)
	cmd := exec.CommandContext(ctx, "docker", "ps", "-a", "--no-trunc", "--filter", "label="+h.LabelCluster+"="+cluster, "--format", format)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("docker ps of cluster %s: %w: %s", cluster, err, strings.TrimSpace(stderr.String()))
	}
	return parsePS(string(out)), nil
}

// parsePS reads `docker ps --format` lines of id, state, task ARN,
// container name and ports, tab-separated. A container without ports ends
// its line with a tab: only newlines are trimmed, so that the last line
// keeps its empty ports field.
func parsePS(out string) []dockerContainer {
	var cs []dockerContainer
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 5 {
			continue
		}
		c := dockerContainer{id: f[0], state: f[1], arn: f[2], name: f[3]}
		for _, m := range hostPortRE.FindAllStringSubmatch(f[4], -1) {
			if key := m[2] + "/" + m[1]; !slices.Contains(c.hostPorts, key) {
				c.hostPorts = append(c.hostPorts, key)
			}
		}
		cs = append(cs, c)
	}
	return cs
}

// runningOf counts the running containers of a task.
func (o observation) runningOf(arn string) int {
	n := 0
	for _, c := range o.containers {
		if c.arn == arn && c.running() {
			n++
		}
	}
	return n
}

// ecsTask is the agent's task of an ECS task ARN.
func (o observation) ecsTask(arn string) (apiv1.Task, bool) {
	for _, t := range o.tasks {
		if t.Spec.Arn == arn {
			return t, true
		}
	}
	return apiv1.Task{}, false
}
