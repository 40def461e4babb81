package taskdef

// The types below are the input of ECS RegisterTaskDefinition, field for
// field, as `aws ecs register-task-definition --cli-input-json` takes it
// (names and JSON types from the ECS API reference). Every field the API
// accepts is here, even those the agent does not act on, so that the shape
// check can tell a typo from a real field. Pointers mark fields whose absence
// differs from their zero value.

type taskDefinition struct {
	Family                  string                 `json:"family"`
	TaskRoleArn             string                 `json:"taskRoleArn"`
	ExecutionRoleArn        string                 `json:"executionRoleArn"`
	NetworkMode             string                 `json:"networkMode"`
	ContainerDefinitions    []containerDefinition  `json:"containerDefinitions"`
	Volumes                 []volume               `json:"volumes"`
	PlacementConstraints    []placementConstraint  `json:"placementConstraints"`
	RequiresCompatibilities []string               `json:"requiresCompatibilities"`
	CPU                     *string                `json:"cpu"`
	Memory                  *string                `json:"memory"`
	Tags                    []tag                  `json:"tags"`
	PidMode                 string                 `json:"pidMode"`
	IpcMode                 string                 `json:"ipcMode"`
	ProxyConfiguration      *proxyConfiguration    `json:"proxyConfiguration"`
	InferenceAccelerators   []inferenceAccelerator `json:"inferenceAccelerators"`
	EphemeralStorage        *ephemeralStorage      `json:"ephemeralStorage"`
	RuntimePlatform         *runtimePlatform       `json:"runtimePlatform"`
	EnableFaultInjection    *bool                  `json:"enableFaultInjection"`
}

type containerDefinition struct {
	Name                   string                 `json:"name"`
	Image                  string                 `json:"image"`
	RepositoryCredentials  *repositoryCredentials `json:"repositoryCredentials"`
	CPU                    *int32                 `json:"cpu"`
	Memory                 *int32                 `json:"memory"`
	MemoryReservation      *int32                 `json:"memoryReservation"`
	Links                  []string               `json:"links"`
	PortMappings           []portMapping          `json:"portMappings"`
	Essential              *bool                  `json:"essential"`
	RestartPolicy          *restartPolicy         `json:"restartPolicy"`
	EntryPoint             []string               `json:"entryPoint"`
	Command                []string               `json:"command"`
	Environment            []keyValuePair         `json:"environment"`
	EnvironmentFiles       []environmentFile      `json:"environmentFiles"`
	MountPoints            []mountPoint           `json:"mountPoints"`
	VolumesFrom            []volumeFrom           `json:"volumesFrom"`
	LinuxParameters        *linuxParameters       `json:"linuxParameters"`
	Secrets                []secret               `json:"secrets"`
	DependsOn              []containerDependency  `json:"dependsOn"`
	StartTimeout           *int32                 `json:"startTimeout"`
	StopTimeout            *int32                 `json:"stopTimeout"`
	VersionConsistency     string                 `json:"versionConsistency"`
	Hostname               string                 `json:"hostname"`
	User                   string                 `json:"user"`
	WorkingDirectory       string                 `json:"workingDirectory"`
	DisableNetworking      *bool                  `json:"disableNetworking"`
	Privileged             *bool                  `json:"privileged"`
	ReadonlyRootFilesystem *bool                  `json:"readonlyRootFilesystem"`
	DNSServers             []string               `json:"dnsServers"`
	DNSSearchDomains       []string               `json:"dnsSearchDomains"`
	ExtraHosts             []hostEntry            `json:"extraHosts"`
	DockerSecurityOptions  []string               `json:"dockerSecurityOptions"`
	Interactive            *bool                  `json:"interactive"`
	PseudoTerminal         *bool                  `json:"pseudoTerminal"`
	DockerLabels           map[string]string      `json:"dockerLabels"`
	Ulimits                []ulimit               `json:"ulimits"`
	LogConfiguration       *logConfiguration      `json:"logConfiguration"`
	HealthCheck            *healthCheck           `json:"healthCheck"`
	SystemControls         []systemControl        `json:"systemControls"`
	ResourceRequirements   []resourceRequirement  `json:"resourceRequirements"`
	FirelensConfiguration  *firelensConfiguration `json:"firelensConfiguration"`
	CredentialSpecs        []string               `json:"credentialSpecs"`
}

type repositoryCredentials struct {
	CredentialsParameter string `json:"credentialsParameter"`
}

type portMapping struct {
	ContainerPort      *int32 `json:"containerPort"`
	HostPort           *int32 `json:"hostPort"`
	Protocol           string `json:"protocol"`
	Name               string `json:"name"`
	AppProtocol        string `json:"appProtocol"`
	ContainerPortRange string `json:"containerPortRange"`
}

type restartPolicy struct {
	Enabled              *bool   `json:"enabled"`
	IgnoredExitCodes     []int32 `json:"ignoredExitCodes"`
	RestartAttemptPeriod *int32  `json:"restartAttemptPeriod"`
}

type keyValuePair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type environmentFile struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

type mountPoint struct {
	SourceVolume  string `json:"sourceVolume"`
	ContainerPath string `json:"containerPath"`
	ReadOnly      *bool  `json:"readOnly"`
}

type volumeFrom struct {
	SourceContainer string `json:"sourceContainer"`
	ReadOnly        *bool  `json:"readOnly"`
}

type linuxParameters struct {
	Capabilities       *kernelCapabilities `json:"capabilities"`
	Devices            []device            `json:"devices"`
	InitProcessEnabled *bool               `json:"initProcessEnabled"`
	SharedMemorySize   *int32              `json:"sharedMemorySize"`
	Tmpfs              []tmpfs             `json:"tmpfs"`
	MaxSwap            *int32              `json:"maxSwap"`
	Swappiness         *int32              `json:"swappiness"`
}

type kernelCapabilities struct {
	Add  []string `json:"add"`
	Drop []string `json:"drop"`
}

type device struct {
	HostPath      string   `json:"hostPath"`
	ContainerPath string   `json:"containerPath"`
	Permissions   []string `json:"permissions"`
}

type tmpfs struct {
	ContainerPath string   `json:"containerPath"`
	Size          *int32   `json:"size"`
	MountOptions  []string `json:"mountOptions"`
}

type secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

type containerDependency struct {
	ContainerName string `json:"containerName"`
	Condition     string `json:"condition"`
}

type hostEntry struct {
	Hostname  string `json:"hostname"`
	IPAddress string `json:"ipAddress"`
}

type ulimit struct {
	Name      string `json:"name"`
	SoftLimit *int32 `json:"softLimit"`
	HardLimit *int32 `json:"hardLimit"`
}

type logConfiguration struct {
	LogDriver     string            `json:"logDriver"`
	Options       map[string]string `json:"options"`
	SecretOptions []secret          `json:"secretOptions"`
}

type healthCheck struct {
	Command     []string `json:"command"`
	Interval    *int32   `json:"interval"`
	Timeout     *int32   `json:"timeout"`
	Retries     *int32   `json:"retries"`
	StartPeriod *int32   `json:"startPeriod"`
}

type systemControl struct {
	Namespace string `json:"namespace"`
	Value     string `json:"value"`
}

type resourceRequirement struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

type firelensConfiguration struct {
	Type    string            `json:"type"`
	Options map[string]string `json:"options"`
}

type volume struct {
	Name                                    string                                   `json:"name"`
	Host                                    *hostVolumeProperties                    `json:"host"`
	DockerVolumeConfiguration               *dockerVolumeConfiguration               `json:"dockerVolumeConfiguration"`
	EFSVolumeConfiguration                  *efsVolumeConfiguration                  `json:"efsVolumeConfiguration"`
	FSxWindowsFileServerVolumeConfiguration *fsxWindowsFileServerVolumeConfiguration `json:"fsxWindowsFileServerVolumeConfiguration"`
	ConfiguredAtLaunch                      *bool                                    `json:"configuredAtLaunch"`
}

type hostVolumeProperties struct {
	SourcePath string `json:"sourcePath"`
}

type dockerVolumeConfiguration struct {
	Scope         string            `json:"scope"`
	Autoprovision *bool             `json:"autoprovision"`
	Driver        string            `json:"driver"`
	DriverOpts    map[string]string `json:"driverOpts"`
	Labels        map[string]string `json:"labels"`
}

type efsVolumeConfiguration struct {
	FileSystemID          string                  `json:"fileSystemId"`
	RootDirectory         string                  `json:"rootDirectory"`
	TransitEncryption     string                  `json:"transitEncryption"`
	TransitEncryptionPort *int32                  `json:"transitEncryptionPort"`
	AuthorizationConfig   *efsAuthorizationConfig `json:"authorizationConfig"`
}

type efsAuthorizationConfig struct {
	AccessPointID string `json:"accessPointId"`
	IAM           string `json:"iam"`
}

type fsxWindowsFileServerVolumeConfiguration struct {
	FileSystemID        string                  `json:"fileSystemId"`
	RootDirectory       string                  `json:"rootDirectory"`
	AuthorizationConfig *fsxAuthorizationConfig `json:"authorizationConfig"`
}

type fsxAuthorizationConfig struct {
	CredentialsParameter string `json:"credentialsParameter"`
	Domain               string `json:"domain"`
}

type placementConstraint struct {
	Type       string `json:"type"`
	Expression string `json:"expression"`
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type proxyConfiguration struct {
	Type          string         `json:"type"`
	ContainerName string         `json:"containerName"`
	Properties    []keyValuePair `json:"properties"`
}

type inferenceAccelerator struct {
	DeviceName string `json:"deviceName"`
	DeviceType string `json:"deviceType"`
}

type ephemeralStorage struct {
	SizeInGiB *int32 `json:"sizeInGiB"`
}

type runtimePlatform struct {
	CPUArchitecture       string `json:"cpuArchitecture"`
	OperatingSystemFamily string `json:"operatingSystemFamily"`
}

// outputOnly are fields of describe-task-definition's output that
// register-task-definition rejects; files are often made by copying that
// output, so these get a hint instead of a bare "unknown field".
var outputOnly = map[string]bool{
	"taskDefinitionArn": true, "revision": true, "status": true,
	"requiresAttributes": true, "compatibilities": true, "registeredAt": true,
	"registeredBy": true, "deregisteredAt": true,
}

// OutputOnly reports whether name is a top-level field of
// describe-task-definition's output that register-task-definition does not
// take.
func OutputOnly(name string) bool { return outputOnly[name] }
