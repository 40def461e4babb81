package harness

import "encoding/json"

// TaskDefinition is the part of ECS register-task-definition JSON that the
// tests write as static task files.
type TaskDefinition struct {
	Family           string `json:"family"`
	NetworkMode      string `json:"networkMode,omitempty"`
	TaskRoleArn      string `json:"taskRoleArn,omitempty"`
	ExecutionRoleArn string `json:"executionRoleArn,omitempty"`
	// CPU is the task-level cpu (units, 1024 a vCPU): a CFS quota on the
	// task's cgroup.
	CPU                  string                `json:"cpu,omitempty"`
	ContainerDefinitions []ContainerDefinition `json:"containerDefinitions"`
}

// ContainerDefinition is one entry of containerDefinitions.
type ContainerDefinition struct {
	Name         string        `json:"name"`
	Image        string        `json:"image"`
	Command      []string      `json:"command,omitempty"`
	Essential    *bool         `json:"essential,omitempty"`
	Memory       int           `json:"memory,omitempty"`
	PortMappings []PortMapping `json:"portMappings,omitempty"`
	DependsOn    []Dependency  `json:"dependsOn,omitempty"`
	HealthCheck  *HealthCheck  `json:"healthCheck,omitempty"`
	Environment  []KeyValue    `json:"environment,omitempty"`
	Secrets      []SecretRef   `json:"secrets,omitempty"`
	StartTimeout int           `json:"startTimeout,omitempty"`
	StopTimeout  *int          `json:"stopTimeout,omitempty"`
	// RepositoryCredentials is {"credentialsParameter": …}.
	RepositoryCredentials map[string]string `json:"repositoryCredentials,omitempty"`
	// VersionConsistency is "enabled" (ECS's default when empty) or
	// "disabled".
	VersionConsistency string `json:"versionConsistency,omitempty"`
	// RestartPolicy is the restartPolicy object, as JSON would have it.
	RestartPolicy map[string]any `json:"restartPolicy,omitempty"`
	// LinuxParameters is the linuxParameters object, as JSON would have it.
	LinuxParameters map[string]any `json:"linuxParameters,omitempty"`
}

// PortMapping is one entry of portMappings.
type PortMapping struct {
	ContainerPort int    `json:"containerPort"`
	HostPort      int    `json:"hostPort"`
	Protocol      string `json:"protocol,omitempty"`
}

// KeyValue is one entry of environment.
type KeyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SecretRef is one entry of secrets: a variable whose value comes from
// Secrets Manager or SSM.
type SecretRef struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// Dependency is one entry of dependsOn.
type Dependency struct {
	ContainerName string `json:"containerName"`
	Condition     string `json:"condition"`
}

// HealthCheck is a container's healthCheck; times in seconds.
type HealthCheck struct {
	Command  []string `json:"command"`
	Interval int      `json:"interval,omitempty"`
	Timeout  int      `json:"timeout,omitempty"`
	Retries  int      `json:"retries,omitempty"`
}

// Task returns a task definition of the given containers.
func Task(family string, containers ...ContainerDefinition) TaskDefinition {
	return TaskDefinition{Family: family, ContainerDefinitions: containers}
}

// App returns a container of the test image running testapp with args
// (serve PORT, exit CODE [AFTER], sleep, healthy-after D, …), essential,
// with 64 MiB of memory.
func App(name string, args ...string) ContainerDefinition {
	return ContainerDefinition{Name: name, Image: TestImage, Command: args, Memory: 64}
}

// NotEssential marks the container as not essential.
func (c ContainerDefinition) NotEssential() ContainerDefinition {
	f := false
	c.Essential = &f
	return c
}

// After adds a dependsOn entry: c waits for container to reach condition.
func (c ContainerDefinition) After(container, condition string) ContainerDefinition {
	c.DependsOn = append(append([]Dependency(nil), c.DependsOn...), Dependency{ContainerName: container, Condition: condition})
	return c
}

// WithStartTimeout sets how long (seconds) c waits for its dependencies.
func (c ContainerDefinition) WithStartTimeout(seconds int) ContainerDefinition {
	c.StartTimeout = seconds
	return c
}

// WithStopTimeout sets how long (seconds) c has between SIGTERM and SIGKILL.
func (c ContainerDefinition) WithStopTimeout(seconds int) ContainerDefinition {
	c.StopTimeout = &seconds
	return c
}

// Port adds a tcp port mapping; hostPort 0 asks the agent for one.
func (c ContainerDefinition) Port(containerPort, hostPort int) ContainerDefinition {
	c.PortMappings = append(append([]PortMapping(nil), c.PortMappings...), PortMapping{ContainerPort: containerPort, HostPort: hostPort, Protocol: "tcp"})
	return c
}

// HealthCheckedByTestapp adds the test image's health check
// (`testapp check`) as often as ECS allows (every 5 seconds; Docker runs the
// first check one interval after the start), three retries.
func (c ContainerDefinition) HealthCheckedByTestapp() ContainerDefinition {
	c.HealthCheck = &HealthCheck{Command: []string{"CMD", "/testapp", "check"}, Interval: 5, Timeout: 2, Retries: 3}
	return c
}

// Env adds an environment variable.
func (c ContainerDefinition) Env(name, value string) ContainerDefinition {
	c.Environment = append(append([]KeyValue(nil), c.Environment...), KeyValue{Name: name, Value: value})
	return c
}

// Secret adds a secret variable whose value comes from valueFrom.
func (c ContainerDefinition) Secret(name, valueFrom string) ContainerDefinition {
	c.Secrets = append(append([]SecretRef(nil), c.Secrets...), SecretRef{Name: name, ValueFrom: valueFrom})
	return c
}

// JSON renders the definition as a static task file's content.
func (d TaskDefinition) JSON() string {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		panic(err) // plain structs always marshal
	}
	return string(b)
}
