package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TaskStatusName is a task or container lifecycle status as ECS names it.
type TaskStatusName string

// Task and container statuses, in lifecycle order; ECS defines them in the
// Task and Container API types (lastStatus, desiredStatus).
const (
	StatusNone    TaskStatusName = "NONE"
	StatusPulled  TaskStatusName = "PULLED"
	StatusCreated TaskStatusName = "CREATED"
	StatusRunning TaskStatusName = "RUNNING"
	StatusStopped TaskStatusName = "STOPPED"
)

// TaskSource says where a task's desired state comes from.
type TaskSource string

// Task sources.
const (
	SourceECS    TaskSource = "ecs"
	SourceStatic TaskSource = "static"
)

// Network modes the agent supports (the ECS task definition networkMode).
const (
	NetworkModeBridge = "bridge"
	NetworkModeHost   = "host"
	NetworkModeNone   = "none"
)

// Dependency conditions of a container's dependsOn (ECS ContainerDependency).
const (
	ConditionCreate   = "CREATE"
	ConditionStart    = "START"
	ConditionComplete = "COMPLETE"
	ConditionSuccess  = "SUCCESS"
	ConditionHealthy  = "HEALTHY"
)

// Health statuses of a container, as ECS reports them.
const (
	HealthUnknown   = "UNKNOWN"
	HealthHealthy   = "HEALTHY"
	HealthUnhealthy = "UNHEALTHY"
)

// +kubebuilder:object:root=true

// Task is one ECS task the agent must run (or stop) on this host. Its spec
// is written by the task's source (the ECS source or the static source);
// its status only by the tasks reconciler, with Store.UpdateStatus. What the
// control plane acknowledged is the reporter's, in the task's TaskReport.
type Task struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TaskSpec   `json:"spec"`
	Status TaskStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// TaskList is a list of tasks.
type TaskList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Task `json:"items"`
}

// TaskSpec is what the task's source wants: the task definition, with
// overrides applied, and the desired status.
type TaskSpec struct {
	// Arn is the task ARN; for static tasks the agent makes one up that is
	// stable for the life of the task.
	Arn      string `json:"arn"`
	Family   string `json:"family"`
	Revision int64  `json:"revision"`
	Cluster  string `json:"cluster,omitempty"`
	// DesiredStatus is RUNNING or STOPPED.
	DesiredStatus TaskStatusName `json:"desiredStatus"`
	// NetworkMode is bridge (the default), host or none.
	NetworkMode string `json:"networkMode,omitempty"`
	// PidMode and IpcMode are host, task (the task's containers share one
	// namespace) or "" (each container its own); IpcMode may also be none.
	PidMode          string          `json:"pidMode,omitempty"`
	IpcMode          string          `json:"ipcMode,omitempty"`
	Containers       []ContainerSpec `json:"containers"`
	Volumes          []Volume        `json:"volumes,omitempty"`
	TaskRoleArn      string          `json:"taskRoleArn,omitempty"`
	ExecutionRoleArn string          `json:"executionRoleArn,omitempty"`
	// CPU and Memory are the task-level limits, as written in the task
	// definition (units or "1 vCPU", MiB or "1 GB").
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`

	Source TaskSource `json:"source"`
	// SourceRef locates the definition in its source: the static file path.
	SourceRef string `json:"sourceRef,omitempty"`
	// DefinitionError, when set, says why the definition cannot be run. The
	// task is never started and ends STOPPED with this as its reason.
	DefinitionError string `json:"definitionError,omitempty"`
}

// ContainerSpec is one container definition of a task.
type ContainerSpec struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	// RepositoryCredentials names the secret holding the registry
	// credentials for Image (never the credentials themselves).
	RepositoryCredentials *RepositoryCredentials `json:"repositoryCredentials,omitempty"`

	Command          []string      `json:"command,omitempty"`
	EntryPoint       []string      `json:"entryPoint,omitempty"`
	Environment      []KeyValue    `json:"environment,omitempty"`
	Secrets          []Secret      `json:"secrets,omitempty"`
	WorkingDirectory string        `json:"workingDirectory,omitempty"`
	User             string        `json:"user,omitempty"`
	Hostname         string        `json:"hostname,omitempty"`
	PortMappings     []PortMapping `json:"portMappings,omitempty"`

	// Essential containers stop the task when they exit. The task
	// definition's default (true) is applied by the source.
	Essential bool                  `json:"essential"`
	DependsOn []ContainerDependency `json:"dependsOn,omitempty"`
	// StopTimeout is seconds between SIGTERM and SIGKILL; nil means the
	// agent's ECS_CONTAINER_STOP_TIMEOUT.
	StopTimeout *int32 `json:"stopTimeout,omitempty"`
	// StartTimeout is seconds to wait for dependencies before giving up.
	StartTimeout *int32 `json:"startTimeout,omitempty"`

	// CPU is in CPU units (1024 per core), mapped to CPU shares.
	CPU int64 `json:"cpu,omitempty"`
	// Memory is the hard limit in MiB.
	Memory *int64 `json:"memory,omitempty"`
	// MemoryReservation is the soft limit in MiB.
	MemoryReservation *int64 `json:"memoryReservation,omitempty"`

	MountPoints            []MountPoint      `json:"mountPoints,omitempty"`
	VolumesFrom            []VolumeFrom      `json:"volumesFrom,omitempty"`
	HealthCheck            *HealthCheck      `json:"healthCheck,omitempty"`
	LogConfiguration       *LogConfiguration `json:"logConfiguration,omitempty"`
	DockerLabels           map[string]string `json:"dockerLabels,omitempty"`
	Privileged             bool              `json:"privileged,omitempty"`
	ReadonlyRootFilesystem bool              `json:"readonlyRootFilesystem,omitempty"`
	Ulimits                []Ulimit          `json:"ulimits,omitempty"`
	RestartPolicy          *RestartPolicy    `json:"restartPolicy,omitempty"`

	// Links are "name" or "name:alias" of other containers of the task
	// (bridge network mode only).
	Links                 []string        `json:"links,omitempty"`
	DNSServers            []string        `json:"dnsServers,omitempty"`
	DNSSearchDomains      []string        `json:"dnsSearchDomains,omitempty"`
	ExtraHosts            []HostEntry     `json:"extraHosts,omitempty"`
	DockerSecurityOptions []string        `json:"dockerSecurityOptions,omitempty"`
	SystemControls        []SystemControl `json:"systemControls,omitempty"`
	DisableNetworking     bool            `json:"disableNetworking,omitempty"`
	// Interactive keeps stdin open; PseudoTerminal allocates a TTY.
	Interactive     bool             `json:"interactive,omitempty"`
	PseudoTerminal  bool             `json:"pseudoTerminal,omitempty"`
	LinuxParameters *LinuxParameters `json:"linuxParameters,omitempty"`
	// VersionConsistencyDisabled is versionConsistency "disabled": the
	// container runs whatever its tag names when it is created, instead of
	// the digest the task resolved at its first pull.
	VersionConsistencyDisabled bool `json:"versionConsistencyDisabled,omitempty"`
}

// HostEntry is one line added to the container's /etc/hosts.
type HostEntry struct {
	Hostname  string `json:"hostname"`
	IPAddress string `json:"ipAddress"`
}

// SystemControl is one namespaced kernel parameter (sysctl) of the
// container.
type SystemControl struct {
	Namespace string `json:"namespace"`
	Value     string `json:"value"`
}

// LinuxParameters are the Linux-specific settings of a container.
type LinuxParameters struct {
	Capabilities *KernelCapabilities `json:"capabilities,omitempty"`
	Devices      []Device            `json:"devices,omitempty"`
	// InitProcessEnabled runs an init process as PID 1 that forwards
	// signals and reaps zombies (docker run --init).
	InitProcessEnabled bool `json:"initProcessEnabled,omitempty"`
	// SharedMemorySize is the size of /dev/shm in MiB.
	SharedMemorySize *int64  `json:"sharedMemorySize,omitempty"`
	Tmpfs            []Tmpfs `json:"tmpfs,omitempty"`
	// MaxSwap is the swap the container may use in MiB, on top of its
	// memory; 0 means none.
	MaxSwap *int64 `json:"maxSwap,omitempty"`
	// Swappiness is 0 to 100; the agent fills in ECS's 60 when MaxSwap is
	// set without it.
	Swappiness *int64 `json:"swappiness,omitempty"`
}

// KernelCapabilities are Linux capabilities added to or dropped from
// Docker's default set, named without the CAP_ prefix.
type KernelCapabilities struct {
	Add  []string `json:"add,omitempty"`
	Drop []string `json:"drop,omitempty"`
}

// Device is a host device exposed in the container.
type Device struct {
	HostPath string `json:"hostPath"`
	// ContainerPath defaults to HostPath.
	ContainerPath string `json:"containerPath,omitempty"`
	// Permissions are read, write and mknod; none means all three.
	Permissions []string `json:"permissions,omitempty"`
}

// Tmpfs is a tmpfs mount of the container.
type Tmpfs struct {
	ContainerPath string `json:"containerPath"`
	// Size is in MiB.
	Size         int64    `json:"size"`
	MountOptions []string `json:"mountOptions,omitempty"`
}

// RepositoryCredentials is a container definition's repositoryCredentials:
// the ARN or name of the secret with the private registry's username and
// password.
type RepositoryCredentials struct {
	CredentialsParameter string `json:"credentialsParameter"`
}

// KeyValue is one environment variable.
type KeyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Secret references a secret by ARN; the value is never stored.
type Secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// PortMapping maps a container port to a host port. HostPort 0 in bridge mode
// asks the agent to pick one.
type PortMapping struct {
	ContainerPort int32 `json:"containerPort"`
	HostPort      int32 `json:"hostPort,omitempty"`
	// Protocol is tcp (the default) or udp.
	Protocol string `json:"protocol,omitempty"`
}

// ContainerDependency is one entry of dependsOn.
type ContainerDependency struct {
	ContainerName string `json:"containerName"`
	// Condition is CREATE, START, COMPLETE, SUCCESS or HEALTHY.
	Condition string `json:"condition"`
}

// MountPoint mounts a task volume into the container.
type MountPoint struct {
	SourceVolume  string `json:"sourceVolume"`
	ContainerPath string `json:"containerPath"`
	ReadOnly      bool   `json:"readOnly,omitempty"`
}

// VolumeFrom mounts every volume of another container of the task.
type VolumeFrom struct {
	SourceContainer string `json:"sourceContainer"`
	ReadOnly        bool   `json:"readOnly,omitempty"`
}

// HealthCheck is the container's Docker health check. Times are seconds.
type HealthCheck struct {
	Command     []string `json:"command"`
	Interval    int32    `json:"interval,omitempty"`
	Timeout     int32    `json:"timeout,omitempty"`
	Retries     int32    `json:"retries,omitempty"`
	StartPeriod int32    `json:"startPeriod,omitempty"`
}

// LogConfiguration selects the container's Docker log driver.
type LogConfiguration struct {
	LogDriver string            `json:"logDriver"`
	Options   map[string]string `json:"options,omitempty"`
}

// Ulimit is one resource limit.
type Ulimit struct {
	Name      string `json:"name"`
	SoftLimit int64  `json:"softLimit"`
	HardLimit int64  `json:"hardLimit"`
}

// RestartPolicy restarts a container in place when it exits, as the ECS
// agent does (container restart policy).
type RestartPolicy struct {
	Enabled          bool    `json:"enabled"`
	IgnoredExitCodes []int32 `json:"ignoredExitCodes,omitempty"`
	// RestartAttemptPeriod is seconds a container must have run before it may
	// be restarted; ECS's default is 300.
	RestartAttemptPeriod int32 `json:"restartAttemptPeriod,omitempty"`
}

// Volume is a task volume: a host path, a Docker volume, or (neither set) a
// Docker volume scoped to the task.
type Volume struct {
	Name                      string                     `json:"name"`
	Host                      *HostVolume                `json:"host,omitempty"`
	DockerVolumeConfiguration *DockerVolumeConfiguration `json:"dockerVolumeConfiguration,omitempty"`
}

// HostVolume bind-mounts a host path. An empty SourcePath means a volume
// Docker manages for the task's lifetime.
type HostVolume struct {
	SourcePath string `json:"sourcePath,omitempty"`
}

// DockerVolumeConfiguration is a named Docker volume.
type DockerVolumeConfiguration struct {
	// Scope is task (removed with the task) or shared.
	Scope         string            `json:"scope,omitempty"`
	Autoprovision bool              `json:"autoprovision,omitempty"`
	Driver        string            `json:"driver,omitempty"`
	DriverOpts    map[string]string `json:"driverOpts,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// TaskStatus is what the tasks reconciler observed and did.
type TaskStatus struct {
	// KnownStatus is NONE, PULLED, CREATED, RUNNING or STOPPED.
	KnownStatus TaskStatusName    `json:"knownStatus,omitempty"`
	Containers  []ContainerStatus `json:"containers,omitempty"`
	// StoppingReason is set when the agent decided to stop the task (an
	// essential container exited, a container cannot start); StoppedReason
	// is copied from it once every container is stopped.
	StoppingReason string `json:"stoppingReason,omitempty"`
	StoppedReason  string `json:"stoppedReason,omitempty"`

	PullStartedAt *metav1.MicroTime `json:"pullStartedAt,omitempty"`
	PullStoppedAt *metav1.MicroTime `json:"pullStoppedAt,omitempty"`
	StartedAt     *metav1.MicroTime `json:"startedAt,omitempty"`
	StoppingAt    *metav1.MicroTime `json:"stoppingAt,omitempty"`
	StoppedAt     *metav1.MicroTime `json:"stoppedAt,omitempty"`
	// CleanupAt is when the stopped task's containers and object go.
	CleanupAt *metav1.MicroTime `json:"cleanupAt,omitempty"`

	// ReportedStatus is the last task status the control plane acknowledged.
	ReportedStatus TaskStatusName `json:"reportedStatus,omitempty"`
}

// ContainerStatus is what the agent knows of one container of the task.
type ContainerStatus struct {
	Name string `json:"name"`
	// MetadataID is the container's id in the task metadata endpoint's
	// paths (/v4/<id>): a random UUID, not the Docker id, made before the
	// container is created and kept for its life, as the ECS agent does.
	MetadataID string `json:"metadataId,omitempty"`
	DockerID   string `json:"dockerId,omitempty"`
	DockerName string `json:"dockerName,omitempty"`
	ImageID    string `json:"imageId,omitempty"`
	// ImageDigest is the registry digest ("sha256:…") of the container's
	// image, resolved when the task first found the image on the host and
	// shared by the task's containers of that image. With
	// versionConsistency enabled (ECS's default) the container is created
	// from it, so a tag that moved meanwhile does not change what runs. It
	// is reported to ECS; empty for an image no registry served.
	ImageDigest string         `json:"imageDigest,omitempty"`
	KnownStatus TaskStatusName `json:"knownStatus,omitempty"`
	ExitCode    *int32         `json:"exitCode,omitempty"`
	// Reason says why the container stopped or could not start.
	Reason string        `json:"reason,omitempty"`
	Ports  []PortBinding `json:"ports,omitempty"`
	// Volumes are the container's mounts as Docker reports them.
	Volumes []VolumeMount `json:"volumes,omitempty"`
	Health  *HealthStatus `json:"health,omitempty"`

	CreatedAt  *metav1.MicroTime `json:"createdAt,omitempty"`
	StartedAt  *metav1.MicroTime `json:"startedAt,omitempty"`
	FinishedAt *metav1.MicroTime `json:"finishedAt,omitempty"`
	// StopRequestedAt is when the agent sent the stop signal; SIGKILL follows
	// after the stop timeout, even across agent restarts.
	StopRequestedAt *metav1.MicroTime `json:"stopRequestedAt,omitempty"`
	RestartCount    int32             `json:"restartCount,omitempty"`
	LastRestartAt   *metav1.MicroTime `json:"lastRestartAt,omitempty"`

	// ReportedStatus is the last container status the control plane acknowledged.
	ReportedStatus TaskStatusName `json:"reportedStatus,omitempty"`
}

// PortBinding is a container port bound on the host.
type PortBinding struct {
	ContainerPort int32  `json:"containerPort"`
	HostPort      int32  `json:"hostPort"`
	Protocol      string `json:"protocol"`
	BindIP        string `json:"bindIP,omitempty"`
}

// VolumeMount is one mount of a container: DockerName is the Docker
// volume's name (empty for a host path), Source where the data is on the
// host, Destination the path in the container.
type VolumeMount struct {
	DockerName  string `json:"dockerName,omitempty"`
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination"`
}

// HealthStatus is a container's last health check result.
type HealthStatus struct {
	Status string            `json:"status"`
	Output string            `json:"output,omitempty"`
	Since  *metav1.MicroTime `json:"since,omitempty"`
}

// ContainerStatusFor returns the status entry of the named container, or nil.
func (s *TaskStatus) ContainerStatusFor(name string) *ContainerStatus {
	for i := range s.Containers {
		if s.Containers[i].Name == name {
			return &s.Containers[i]
		}
	}
	return nil
}

// ContainerSpecFor returns the named container definition, or nil.
func (s *TaskSpec) ContainerSpecFor(name string) *ContainerSpec {
	for i := range s.Containers {
		if s.Containers[i].Name == name {
			return &s.Containers[i]
		}
	}
	return nil
}
