package acs

// DockerContainerConfig is the part of a Docker Engine container.Config
// (DockerConfig.Config) that ECS fills from a container definition: the
// settings the ACS Container shape has no member for. Field names are
// Docker's. The test ECS endpoint writes it; the agent reads dockerConfig
// through internal/taskdef (DockerConfig.Fields), which refuses any setting
// it cannot apply.
type DockerContainerConfig struct {
	Labels      map[string]string  `json:"Labels,omitempty"`
	User        string             `json:"User,omitempty"`
	WorkingDir  string             `json:"WorkingDir,omitempty"`
	Hostname    string             `json:"Hostname,omitempty"`
	Healthcheck *DockerHealthcheck `json:"Healthcheck,omitempty"`
}

// DockerHealthcheck is Docker's health check: durations in nanoseconds.
type DockerHealthcheck struct {
	Test        []string `json:"Test,omitempty"`
	Interval    int64    `json:"Interval,omitempty"`
	Timeout     int64    `json:"Timeout,omitempty"`
	StartPeriod int64    `json:"StartPeriod,omitempty"`
	Retries     int      `json:"Retries,omitempty"`
}

// DockerHostConfig is the part of a Docker Engine container.HostConfig
// (DockerConfig.HostConfig) that ECS fills from a container definition.
type DockerHostConfig struct {
	LogConfig      *DockerLogConfig `json:"LogConfig,omitempty"`
	Ulimits        []DockerUlimit   `json:"Ulimits,omitempty"`
	ReadonlyRootfs bool             `json:"ReadonlyRootfs,omitempty"`
	// MemoryReservation is the soft memory limit in bytes.
	MemoryReservation int64             `json:"MemoryReservation,omitempty"`
	DNS               []string          `json:"Dns,omitempty"`
	DNSSearch         []string          `json:"DnsSearch,omitempty"`
	ExtraHosts        []string          `json:"ExtraHosts,omitempty"`
	SecurityOpt       []string          `json:"SecurityOpt,omitempty"`
	Sysctls           map[string]string `json:"Sysctls,omitempty"`
}

// DockerLogConfig is a container's log driver and its options.
type DockerLogConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config,omitempty"`
}

// DockerUlimit is one resource limit.
type DockerUlimit struct {
	Name string `json:"Name"`
	Soft int64  `json:"Soft"`
	Hard int64  `json:"Hard"`
}

// ContainerOverrides is the JSON of Container.Overrides: ECS sends a
// container override's command there (environment, cpu and memory
// overrides arrive already applied to the container's members).
type ContainerOverrides struct {
	Command []string `json:"command,omitempty"`
}
