// Package config holds the agent's configuration: the ECS agent's
// environment variables (and ours), read once at start-up from the
// environment and /etc/ecs/ecs.config into one typed, validated Config.
// Nothing else in the agent reads environment variables.
//
// The environment wins over the file. A variable set to the empty string
// counts as not set, in either place, as it does for the ECS agent (which
// reads os.Getenv). Every bad value is reported at once, naming the
// variable, the value and what was expected; values the ECS agent ignores
// (too-short cleanup intervals and the like) are ignored the same way and
// reported in Config.Warnings.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/trustedfile"
)

// Defaults that are ECS facts (the ECS agent README's "Default value on
// Linux" column, agent/config/config_unix.go) or ours.
const (
	// DefaultFile is where ecs-init and the ECS-optimized AMIs keep the
	// agent's configuration.
	DefaultFile = "/etc/ecs/ecs.config"
	// DefaultCluster is the cluster the ECS agent joins when ECS_CLUSTER is
	// not set.
	DefaultCluster = "default"
	// DefaultDataDir is ours: the ECS agent's default is /data/, the path
	// inside its container at which ecs-init mounts the host's
	// /var/lib/ecs/data. This agent runs on the host, so it uses the host
	// path itself.
	DefaultDataDir = "/var/lib/ecs/data"
	// DefaultStaticTasksDir is ours: where static task definitions live.
	DefaultStaticTasksDir = "/etc/ecs/tasks.d"
	// DefaultDockerHost is the Docker daemon's socket on Linux.
	DefaultDockerHost = "unix:///var/run/docker.sock"
	// DefaultIntrospectionPort is the ECS agent's introspection API port.
	DefaultIntrospectionPort = 51678
	// DefaultTaskMetadataPort is the ECS agent's task metadata and
	// credentials port (reached by tasks through 169.254.170.2:80).
	DefaultTaskMetadataPort = 51679
	// DefaultEphemeralPortRangeFile is where Linux keeps its ephemeral port
	// range, the ECS agent's default for ECS_DYNAMIC_HOST_PORT_RANGE.
	DefaultEphemeralPortRangeFile = "/proc/sys/net/ipv4/ip_local_port_range"
)

// FallbackDynamicHostPortRange is used when the kernel's ephemeral port
// range cannot be read: Linux's own default range.
var FallbackDynamicHostPortRange = PortRange{Start: 32768, End: 60999}

// PortRange is an inclusive range of ports, written "start-end".
type PortRange struct {
	Start, End int
}

// String formats r as ECS_DYNAMIC_HOST_PORT_RANGE is written.
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Start, r.End) }

// Config is the agent's effective configuration. Each field says the
// variable it comes from. Secret fields print as "<redacted>".
type Config struct {
	// Cluster is ECS_CLUSTER: a cluster name or ARN.
	Cluster string
	// ReservedPorts is ECS_RESERVED_PORTS: TCP ports never handed to tasks.
	// Setting it replaces the default list, as in the ECS agent.
	ReservedPorts []int
	// ReservedPortsUDP is ECS_RESERVED_PORTS_UDP.
	ReservedPortsUDP []int
	// EngineAuthType is ECS_ENGINE_AUTH_TYPE: AuthTypeDocker,
	// AuthTypeDockerCfg or "" (no registry auth).
	EngineAuthType string
	// EngineAuthData is ECS_ENGINE_AUTH_DATA as given (JSON).
	EngineAuthData Secret
	// EngineAuth is EngineAuthData parsed: credentials per registry
	// address, the same whichever auth type the data was written in.
	EngineAuth map[string]RegistryAuth
	// Region is AWS_DEFAULT_REGION, else AWS_REGION; "" means ask the EC2
	// instance metadata service.
	Region string
	// AccessKeyID is AWS_ACCESS_KEY_ID; "" means the SDK's default chain.
	AccessKeyID string
	// SecretAccessKey is AWS_SECRET_ACCESS_KEY.
	SecretAccessKey Secret
	// SessionToken is AWS_SESSION_TOKEN.
	SessionToken Secret
	// DockerHost is DOCKER_HOST.
	DockerHost string
	// LogLevel is ECS_LOGLEVEL: crit, error, warn, info or debug.
	LogLevel string
	// LogFile is ECS_LOGFILE, an absolute path; "" logs to stderr only.
	LogFile string
	// LogLevelOnInstance is ECS_LOGLEVEL_ON_INSTANCE: the log file's level
	// when it differs from LogLevel's ("" means LogLevel).
	LogLevelOnInstance string
	// LogRolloverType is ECS_LOG_ROLLOVER_TYPE: the log file is rotated
	// "hourly" or by "size".
	LogRolloverType string
	// LogOutputFormat is ECS_LOG_OUTPUT_FORMAT: "json" ("logfmt" is
	// accepted, with a warning, and JSON lines are written).
	LogOutputFormat string
	// LogMaxFileSizeMB is ECS_LOG_MAX_FILE_SIZE_MB: the size at which the
	// log file is rotated when LogRolloverType is "size", in whole MB.
	LogMaxFileSizeMB int
	// LogMaxRollCount is ECS_LOG_MAX_ROLL_COUNT: how many rotated log files
	// are kept.
	LogMaxRollCount int
	// Checkpoint is ECS_CHECKPOINT. The agent's state always lives in its
	// store; false is accepted for compatibility and only warned about.
	Checkpoint bool
	// DataDir is ECS_DATADIR, an absolute path: where the store lives.
	DataDir string
	// UpdatesEnabled is ECS_UPDATES_ENABLED.
	UpdatesEnabled bool
	// UpdateDownloadDir is ECS_UPDATE_DOWNLOAD_DIR.
	UpdateDownloadDir string
	// DisableMetrics is ECS_DISABLE_METRICS.
	DisableMetrics bool
	// ReservedMemory is ECS_RESERVED_MEMORY, in MiB, subtracted from the
	// memory the container instance registers with.
	ReservedMemory int64
	// AvailableLoggingDrivers is ECS_AVAILABLE_LOGGING_DRIVERS.
	AvailableLoggingDrivers []string
	// DisablePrivileged is ECS_DISABLE_PRIVILEGED.
	DisablePrivileged bool
	// SELinuxCapable is ECS_SELINUX_CAPABLE.
	SELinuxCapable bool
	// AppArmorCapable is ECS_APPARMOR_CAPABLE.
	AppArmorCapable bool
	// TaskCleanupWaitDuration is ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: how
	// long a stopped task's containers are kept.
	TaskCleanupWaitDuration time.Duration
	// ContainerStopTimeout is ECS_CONTAINER_STOP_TIMEOUT: SIGTERM to SIGKILL.
	ContainerStopTimeout time.Duration
	// TaskIAMRoleEnabled is ECS_ENABLE_TASK_IAM_ROLE.
	TaskIAMRoleEnabled bool
	// TaskIAMRoleEnabledForNetworkHost is ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST.
	TaskIAMRoleEnabledForNetworkHost bool
	// SkipLocalhostTrafficFilter is ECS_SKIP_LOCALHOST_TRAFFIC_FILTER
	// (ecs-init's): setup-host leaves out the rule that drops off-host
	// packets for 127.0.0.0/8.
	SkipLocalhostTrafficFilter bool
	// AllowOffhostIntrospectionAccess is
	// ECS_ALLOW_OFFHOST_INTROSPECTION_ACCESS (ecs-init's): setup-host leaves
	// out the rules that keep other hosts from the introspection port.
	AllowOffhostIntrospectionAccess bool
	// ImageCleanupDisabled is ECS_DISABLE_IMAGE_CLEANUP.
	ImageCleanupDisabled bool
	// ImageCleanupInterval is ECS_IMAGE_CLEANUP_INTERVAL.
	ImageCleanupInterval time.Duration
	// ImageMinimumCleanupAge is ECS_IMAGE_MINIMUM_CLEANUP_AGE.
	ImageMinimumCleanupAge time.Duration
	// NumImagesToDeletePerCycle is ECS_NUM_IMAGES_DELETE_PER_CYCLE (≥ 1).
	NumImagesToDeletePerCycle int
	// InstanceAttributes is ECS_INSTANCE_ATTRIBUTES.
	InstanceAttributes map[string]string
	// BackendHost is ECS_BACKEND_HOST: the ECS endpoint's URL (https://
	// added to a bare host), "" for the region's own.
	BackendHost string
	// ImagePullBehavior is ECS_IMAGE_PULL_BEHAVIOR.
	ImagePullBehavior apiv1.PullBehavior
	// ImagePullTimeout is ECS_IMAGE_PULL_TIMEOUT: a whole pull's limit.
	ImagePullTimeout time.Duration
	// ImagePullInactivityTimeout is ECS_IMAGE_PULL_INACTIVITY_TIMEOUT: how
	// long a pull may go without progress.
	ImagePullInactivityTimeout time.Duration
	// TaskCPUMemLimit is ECS_ENABLE_TASK_CPU_MEM_LIMIT: whether task-level
	// cpu and memory are enforced by a cgroup the task's containers share.
	TaskCPUMemLimit bool
	// CgroupPath is ECS_CGROUP_PATH, where the cgroup filesystem is mounted.
	CgroupPath string
	// ExcludeUntrackedImages is ECS_EXCLUDE_UNTRACKED_IMAGE: image
	// references (name:tag) never removed by image cleanup.
	ExcludeUntrackedImages []string
	// ImageCleanupHighThresholdPercent is
	// ECS_IMAGE_CLEANUP_HIGH_THRESHOLD_PERCENT (ours): above 0, image
	// cleanup runs by disk usage, as the kubelet's image GC does: only while
	// the Docker data disk is at least this full, and until it is below
	// ImageCleanupLowThresholdPercent.
	ImageCleanupHighThresholdPercent int
	// ImageCleanupLowThresholdPercent is
	// ECS_IMAGE_CLEANUP_LOW_THRESHOLD_PERCENT (ours).
	ImageCleanupLowThresholdPercent int
	// ContainerInstanceTags is ECS_CONTAINER_INSTANCE_TAGS.
	ContainerInstanceTags map[string]string
	// DynamicHostPortRange is ECS_DYNAMIC_HOST_PORT_RANGE, by default the
	// kernel's ephemeral port range.
	DynamicHostPortRange PortRange
	// StaticTasksDir is ECS_STATIC_TASKS_DIR (ours), an absolute path.
	StaticTasksDir string
	// Offline is ECS_OFFLINE (ours): run only static tasks, with no control
	// plane. Short cleanup durations are honoured when it is set.
	Offline bool
	// PollInterval is ECS_POLL_INTERVAL (ours): the time between two polls
	// of the ECS API for this instance's tasks, jittered by up to a fifth.
	PollInterval time.Duration
	// TaskMetrics is ECS_ENABLE_TASK_METRICS (ours): /metrics has each
	// running task container's CPU and memory, for a bounded number of
	// tasks (introspection.MaxTaskMetricsTasks).
	TaskMetrics bool
	// IntrospectionPort is ECS_INTROSPECTION_PORT (ours), served on
	// 127.0.0.1.
	IntrospectionPort int
	// TaskMetadataPort is ECS_TASK_METADATA_PORT (ours).
	TaskMetadataPort int
	// TaskMetadataRateLimit is ECS_TASK_METADATA_RPS_LIMIT ("rate,burst"):
	// the task metadata endpoint's requests a second and burst, per client
	// IP and path.
	TaskMetadataRateLimit RateLimit
	// ConfigFile is the configuration file that was read ("" if none was:
	// the default file may be missing).
	ConfigFile string
	// Reregister is `ecs-agent run --reregister`: register as a new
	// container instance instead of under the stored ARN.
	Reregister bool
	// SDKEnv are the AWS_* variables the configuration file sets and the
	// environment does not (AWS_EC2_METADATA_DISABLED, AWS_PROFILE,
	// AWS_ENDPOINT_URL_ECR, …). The AWS SDK reads those from the process
	// environment only; the agent exports them before it builds its AWS
	// clients, as systemd's EnvironmentFile would.
	SDKEnv map[string]string
	// Warnings are values that were ignored or adjusted, one sentence each,
	// for the start-up log.
	Warnings []string
}

// RateLimit is a token bucket: Rate requests a second, in bursts of up to
// Burst.
type RateLimit struct {
	Rate, Burst int
}

// String formats l as ECS_TASK_METADATA_RPS_LIMIT is written.
func (l RateLimit) String() string { return fmt.Sprintf("%d,%d", l.Rate, l.Burst) }

// DBPath is the agent's store file.
func (c *Config) DBPath() string { return filepath.Join(c.DataDir, "agent.db") }

// Load reads the configuration from env (os.Environ() form) and file. An
// empty file means $ECS_CONFIG_FILE when env sets it, else DefaultFile,
// which may be missing; a file named by the argument or ECS_CONFIG_FILE must
// exist. All errors are returned together (errors.Join): ValueErrors for bad
// values and LineErrors for malformed lines.
func Load(env []string, file string) (*Config, error) {
	return Loader{}.Load(env, file)
}

// Loader is Load with the host files it reads replaceable, for tests.
type Loader struct {
	// DefaultFile replaces DefaultFile when set.
	DefaultFile string
	// EphemeralPortRangeFile replaces DefaultEphemeralPortRangeFile when
	// set.
	EphemeralPortRangeFile string
}

// Load is the package-level Load with l's files.
func (l Loader) Load(env []string, file string) (*Config, error) {
	r := &resolver{env: envMap(env), file: map[string]fileValue{}}
	errs := r.readFile(l.configFile(file, r.env))
	c := &Config{ConfigFile: r.fileName}
	for k, fv := range r.file {
		if strings.HasPrefix(k, "AWS_") && r.env[k] == "" && fv.value != "" {
			if c.SDKEnv == nil {
				c.SDKEnv = map[string]string{}
			}
			c.SDKEnv[k] = fv.value
		}
	}
	for _, v := range variables {
		errs = append(errs, r.apply(c, v)...)
	}
	errs = append(errs, r.finish(c, l.ephemeralPortRangeFile())...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// configSource is the file to read and how it was named.
type configSource struct {
	path     string
	explicit string // "" (the default file), "argument" or "ECS_CONFIG_FILE"
}

func (l Loader) configFile(file string, env map[string]string) configSource {
	switch {
	case file != "":
		return configSource{path: file, explicit: "argument"}
	case env["ECS_CONFIG_FILE"] != "":
		return configSource{path: env["ECS_CONFIG_FILE"], explicit: "ECS_CONFIG_FILE"}
	case l.DefaultFile != "":
		return configSource{path: l.DefaultFile}
	}
	return configSource{path: DefaultFile}
}

func (l Loader) ephemeralPortRangeFile() string {
	if l.EphemeralPortRangeFile != "" {
		return l.EphemeralPortRangeFile
	}
	return DefaultEphemeralPortRangeFile
}

// envMap indexes os.Environ()-style entries. The first of duplicate entries
// wins, as with os.Getenv.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if _, dup := m[k]; !dup {
			m[k] = v
		}
	}
	return m
}

// resolver looks variables up in the environment, then the file.
type resolver struct {
	env      map[string]string
	file     map[string]fileValue
	fileName string
}

// maxConfigFileSize bounds what is read of ecs.config.
const maxConfigFileSize = 1 << 20

func (r *resolver) readFile(src configSource) []error {
	if src.path == os.DevNull {
		// The usual way to say "no file": nothing to read, nothing to trust.
		return nil
	}
	// ecs.config holds registry credentials and decides what runs: only
	// its owner may have written it.
	data, err := trustedfile.ReadFile(src.path, maxConfigFileSize)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && src.explicit == "" {
			return nil
		}
		// The PathError's own text repeats the path; keep only its cause.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if src.explicit == "ECS_CONFIG_FILE" {
			return []error{fmt.Errorf("ECS_CONFIG_FILE=%q: cannot read the configuration file: %w", src.path, err)}
		}
		return []error{fmt.Errorf("configuration file %q: %w", src.path, err)}
	}
	r.fileName = src.path
	var errs []error
	r.file, errs = parseEnvFile(src.path, data)
	return errs
}

// lookup returns the value of name and where it came from ("" for the
// environment, "file:line" for the file); ok is false when it is not set
// (or set empty) in either.
func (r *resolver) lookup(name string) (value, where string, ok bool) {
	if v := r.env[name]; v != "" {
		return v, "", true
	}
	if fv, found := r.file[name]; found && fv.value != "" {
		return fv.value, fmt.Sprintf("%s:%d", r.fileName, fv.line), true
	}
	return "", "", false
}
