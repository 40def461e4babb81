package taskdef

// Support is what this agent does with a task definition field.
type Support string

// What the agent does with a field.
const (
	// Applied: the agent applies the field as the ECS agent does on EC2
	// Linux, in bridge, host and none network modes.
	Applied Support = "applied"
	// Refused: a task that sets the field is refused with the reason (it
	// ends STOPPED, with the reason reported to ECS for an ECS task).
	Refused Support = "refused"
	// Placement: ECS reads the field when it registers or places the task;
	// no agent applies it on the instance.
	Placement Support = "placement"
)

// Field says what the agent does with one field of register-task-definition's
// input, and which test shows it.
type Field struct {
	// Path is the field's JSON path, arrays unindexed
	// (containerDefinitions.linuxParameters.tmpfs.size); an object's path
	// covers every field under it.
	Path    string
	Support Support
	// Test is the test that shows the field applied (an end-to-end test on
	// a real task) or refused.
	Test string
	// Note says how the field is applied, which of its values are
	// refused, or why it is refused.
	Note string
}

// Tests that show refusals: one definition per refusal in
// testdata/refused.json, parsed as a static file (taskdef) and run through
// ECS's types (internal/controlplane); refusals that depend on this
// instance, in the tasks reconciler's table; both paths end to end.
const (
	refusedWhenRead      = "TestRefusedFieldsAreNamedWithTheReason"
	refusedByInstance    = "TestRefusedTasksStopWithReason"
	refusedEndToEnd      = "TestRefusedTasksStopWithTheReason"
	settingsTest         = "TestContainerDefinitionSettingsReachDocker"
	linuxSettingsTest    = "TestLinuxAndNetworkSettingsReachDocker"
	namespacesTest       = "TestHostAndIsolatedNamespaces"
	sharedNamespacesTest = "TestTaskNamespacesAreShared"
	dependsOnTest        = "TestDependsOnConditions"
	restartPolicyTest    = "TestRestartPolicyRestartsTheContainerInPlace"
	serviceConnectNote   = "used by Service Connect, which ECS configures on the service; it changes nothing in the container"
	refusedDefinitionOf  = "a definition that sets it is refused: "
)

// Fields lists every field register-task-definition takes (ecs.go), in its
// order, with what the agent does with it. docs/task-definitions.md shows
// the same table; tests keep the three in step.
var Fields = []Field{
	{"family", Applied, settingsTest, "the task-definition-family label"},
	{"taskRoleArn", Applied, "TestTasksReachTheirMetadataAndRoleAt169_254_170_2", "the role's credentials are served at 169.254.170.2 (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI); needs ECS_ENABLE_TASK_IAM_ROLE (host network: ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST), refused by name otherwise"},
	{"executionRoleArn", Applied, "TestSecretsReachTheContainerAndNothingElse", "ECR pulls, repositoryCredentials and secrets are fetched with it"},
	{"networkMode", Applied, namespacesTest, "bridge (the default), host, none; awsvpc is refused (no ENI support)"},

	{"containerDefinitions.name", Applied, "TestDependentContainerStartsAfterItsDependency", "the container-name label; the Docker name is ecs-<family>-<revision>-<name>-<suffix>"},
	{"containerDefinitions.image", Applied, settingsTest, ""},
	{"containerDefinitions.repositoryCredentials", Applied, "TestRepositoryCredentialsWinOverWrongEngineAuth", "the registry credentials' secret, by name or ARN"},
	{"containerDefinitions.cpu", Applied, linuxSettingsTest, "CPU shares, at least 2"},
	{"containerDefinitions.memory", Applied, settingsTest, "the hard limit, MiB"},
	{"containerDefinitions.memoryReservation", Applied, linuxSettingsTest, "the soft limit, MiB"},
	{"containerDefinitions.links", Applied, linuxSettingsTest, "bridge mode only (refused in host and none); the linked container is created and started first"},
	{"containerDefinitions.portMappings.containerPort", Applied, "TestDynamicHostPortServesHTTPFromTheConfiguredRange", ""},
	{"containerDefinitions.portMappings.hostPort", Applied, "TestDynamicHostPortServesHTTPFromTheConfiguredRange", "0 or absent: the agent picks one from ECS_DYNAMIC_HOST_PORT_RANGE; in host mode the container port"},
	{"containerDefinitions.portMappings.protocol", Applied, linuxSettingsTest, "tcp or udp"},
	{"containerDefinitions.portMappings.name", Placement, "", serviceConnectNote},
	{"containerDefinitions.portMappings.appProtocol", Placement, "", serviceConnectNote},
	{"containerDefinitions.portMappings.containerPortRange", Refused, refusedWhenRead, "port ranges are not supported: map each port"},
	{"containerDefinitions.essential", Applied, "TestEssentialContainerExitStopsTask", ""},
	{"containerDefinitions.restartPolicy", Applied, restartPolicyTest, "restarted in place, after restartAttemptPeriod, unless the exit code is ignored"},
	{"containerDefinitions.entryPoint", Applied, linuxSettingsTest, ""},
	{"containerDefinitions.command", Applied, linuxSettingsTest, ""},
	{"containerDefinitions.environment", Applied, settingsTest, ""},
	{"containerDefinitions.environmentFiles", Refused, refusedWhenRead, "environment files come from S3, which this agent does not read"},
	{"containerDefinitions.mountPoints", Applied, settingsTest, ""},
	{"containerDefinitions.volumesFrom", Applied, settingsTest, "the source container is created first"},
	{"containerDefinitions.linuxParameters.capabilities", Applied, linuxSettingsTest, "capability names as ECS lists them"},
	{"containerDefinitions.linuxParameters.devices", Applied, linuxSettingsTest, "permissions read, write, mknod (all three when none is listed)"},
	{"containerDefinitions.linuxParameters.initProcessEnabled", Applied, linuxSettingsTest, "Docker's init as PID 1"},
	{"containerDefinitions.linuxParameters.sharedMemorySize", Applied, linuxSettingsTest, "/dev/shm in MiB; refused with an ipcMode, under which Docker ignores it"},
	{"containerDefinitions.linuxParameters.tmpfs", Applied, linuxSettingsTest, "size in MiB, mount options as ECS lists them"},
	{"containerDefinitions.linuxParameters.maxSwap", Applied, linuxSettingsTest, "swap on top of memory (0: none); refused without memory, which Docker needs with a swap limit"},
	{"containerDefinitions.linuxParameters.swappiness", Applied, linuxSettingsTest, "60 when maxSwap is set without it; refused without maxSwap, where ECS ignores it"},
	{"containerDefinitions.secrets", Applied, "TestSecretsReachTheContainerAndNothingElse", "SSM Parameter Store (String, SecureString) and Secrets Manager (whole secret, json-key) values read with the execution role at create, into the container's environment only; a missing or denied one stops the task naming it"},
	{"containerDefinitions.dependsOn", Applied, dependsOnTest, "CREATE, START, COMPLETE, SUCCESS, HEALTHY"},
	{"containerDefinitions.startTimeout", Applied, dependsOnTest, "how long the container waits for its dependencies before it fails"},
	{"containerDefinitions.stopTimeout", Applied, "TestStopTimeoutIsPerContainer", "SIGTERM to SIGKILL; ECS_CONTAINER_STOP_TIMEOUT without it"},
	{"containerDefinitions.versionConsistency", Applied, "TestVersionConsistencyPinsTheImageDigest", "enabled (the default): created from the digest the task resolved first; the digest is reported to ECS"},
	{"containerDefinitions.hostname", Applied, linuxSettingsTest, ""},
	{"containerDefinitions.user", Applied, settingsTest, ""},
	{"containerDefinitions.workingDirectory", Applied, settingsTest, ""},
	{"containerDefinitions.disableNetworking", Applied, namespacesTest, "only the loopback interface"},
	{"containerDefinitions.privileged", Applied, namespacesTest, "refused when ECS_DISABLE_PRIVILEGED=true"},
	{"containerDefinitions.readonlyRootFilesystem", Applied, settingsTest, ""},
	{"containerDefinitions.dnsServers", Applied, linuxSettingsTest, "in every network mode"},
	{"containerDefinitions.dnsSearchDomains", Applied, linuxSettingsTest, ""},
	{"containerDefinitions.extraHosts", Applied, linuxSettingsTest, "in every network mode"},
	{"containerDefinitions.dockerSecurityOptions", Applied, linuxSettingsTest, "no-new-privileges; label: needs ECS_SELINUX_CAPABLE=true and apparmor: ECS_APPARMOR_CAPABLE=true, else refused; credentialspec: (Windows) refused"},
	{"containerDefinitions.interactive", Applied, linuxSettingsTest, "stdin kept open"},
	{"containerDefinitions.pseudoTerminal", Applied, linuxSettingsTest, "a TTY"},
	{"containerDefinitions.dockerLabels", Applied, settingsTest, "the ECS labels cannot be overridden"},
	{"containerDefinitions.ulimits", Applied, settingsTest, ""},
	{"containerDefinitions.logConfiguration.logDriver", Applied, linuxSettingsTest, "drivers in ECS_AVAILABLE_LOGGING_DRIVERS (others refused); awsfirelens refused"},
	{"containerDefinitions.logConfiguration.options", Applied, linuxSettingsTest, ""},
	{"containerDefinitions.logConfiguration.secretOptions", Refused, refusedWhenRead, "log driver secrets are not supported by this agent"},
	{"containerDefinitions.healthCheck", Applied, dependsOnTest, "ECS's defaults: interval 30, timeout 5, retries 3"},
	{"containerDefinitions.systemControls", Applied, linuxSettingsTest, "namespaced kernel parameters; net.* refused in host mode and IPC ones with ipcMode host (they would change the host)"},
	{"containerDefinitions.resourceRequirements", Refused, refusedWhenRead, "GPUs and accelerators are not supported"},
	{"containerDefinitions.firelensConfiguration", Refused, refusedWhenRead, "FireLens is not supported"},
	{"containerDefinitions.credentialSpecs", Refused, refusedWhenRead, "gMSA is for Windows containers"},

	{"volumes.name", Applied, settingsTest, ""},
	{"volumes.host", Applied, settingsTest, "a host path, or (none) a Docker volume for the task's life"},
	{"volumes.dockerVolumeConfiguration", Applied, settingsTest, "scope task (removed with the task) or shared, autoprovision, driver, driverOpts, labels"},
	{"volumes.efsVolumeConfiguration", Refused, refusedWhenRead, "EFS volumes are not supported"},
	{"volumes.fsxWindowsFileServerVolumeConfiguration", Refused, refusedWhenRead, "FSx for Windows volumes are not supported"},
	{"volumes.configuredAtLaunch", Refused, refusedWhenRead, "EBS volumes configured at launch are not supported"},
	{"placementConstraints", Placement, "", "ECS places the task; a static task runs where its file is"},
	{"requiresCompatibilities", Placement, "", "checked by ECS at registration"},
	{"cpu", Applied, "TestTaskCPUAndMemoryLimitTheTaskCgroup", "a CFS quota on the task's cgroup (ECS_ENABLE_TASK_CPU_MEM_LIMIT)"},
	{"memory", Applied, "TestTaskCPUAndMemoryLimitTheTaskCgroup", "the memory limit of the task's cgroup (ECS_ENABLE_TASK_CPU_MEM_LIMIT)"},
	{"tags", Placement, "", "kept by ECS"},
	{"pidMode", Applied, sharedNamespacesTest, "task: the containers join the PID namespace of a pause container the agent makes; host (" + namespacesTest + ")"},
	{"ipcMode", Applied, sharedNamespacesTest, "task: as for pidMode; host and none (" + namespacesTest + ")"},
	{"proxyConfiguration", Refused, refusedWhenRead, "App Mesh is not supported"},
	{"inferenceAccelerators", Refused, refusedWhenRead, "Elastic Inference is not supported"},
	{"ephemeralStorage", Refused, refusedWhenRead, "a Fargate setting"},
	{"runtimePlatform.cpuArchitecture", Placement, refusedWhenRead, refusedDefinitionOf + "an architecture other than this instance's"},
	{"runtimePlatform.operatingSystemFamily", Placement, refusedWhenRead, refusedDefinitionOf + "anything but LINUX"},
	{"enableFaultInjection", Refused, refusedWhenRead, "fault injection is not supported"},
}
