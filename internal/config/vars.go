package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// variable is one configuration variable: its name, its default written as
// an operator would write it (parsed by the same code as a set value, so
// the two cannot disagree), how to parse it into the Config and how to
// print the effective value back.
type variable struct {
	name   string
	def    string // "" means the zero value
	secret bool
	parse  func(c *Config, value string) error
	format func(c *Config) string
}

// field builds a variable over one Config field.
func field[T any](name, def string, f func(*Config) *T, parse func(string) (T, error), format func(T) string) variable {
	return variable{
		name: name,
		def:  def,
		parse: func(c *Config, s string) error {
			v, err := parse(s)
			if err != nil {
				return err
			}
			*f(c) = v
			return nil
		},
		format: func(c *Config) string { return format(*f(c)) },
	}
}

func secretField(name string, f func(*Config) *Secret) variable {
	v := field(name, "", f, func(s string) (Secret, error) { return NewSecret(s), nil }, Secret.String)
	v.secret = true
	return v
}

// ECS facts: the minimums below which the ECS agent ignores a value
// (agent/config/config.go), and the defaults it then uses.
const (
	minTaskCleanupWait      = time.Minute
	minImageCleanupInterval = 10 * time.Minute
	minContainerStopTimeout = time.Second
)

// variables is every variable the agent reads, in the ECS agent README's
// order, then the later ECS ones, then ours. The defaults are the README's
// Linux defaults unless a comment says otherwise.
var variables = []variable{
	field("ECS_CLUSTER", DefaultCluster, func(c *Config) *string { return &c.Cluster }, parseCluster, str),
	field("ECS_RESERVED_PORTS", "[22, 2375, 2376, 51678, 51679]", func(c *Config) *[]int { return &c.ReservedPorts }, parsePorts, formatJSON),
	field("ECS_RESERVED_PORTS_UDP", "[]", func(c *Config) *[]int { return &c.ReservedPortsUDP }, parsePorts, formatJSON),
	field("ECS_ENGINE_AUTH_TYPE", "", func(c *Config) *string { return &c.EngineAuthType }, enum(AuthTypeDocker, AuthTypeDockerCfg), str),
	// Checked against ECS_ENGINE_AUTH_TYPE once both are known (finish).
	secretField("ECS_ENGINE_AUTH_DATA", func(c *Config) *Secret { return &c.EngineAuthData }),
	// AWS_REGION is the fallback (finish).
	field("AWS_DEFAULT_REGION", "", func(c *Config) *string { return &c.Region }, parseRegion, str),
	field("AWS_ACCESS_KEY_ID", "", func(c *Config) *string { return &c.AccessKeyID }, parseString, str),
	secretField("AWS_SECRET_ACCESS_KEY", func(c *Config) *Secret { return &c.SecretAccessKey }),
	secretField("AWS_SESSION_TOKEN", func(c *Config) *Secret { return &c.SessionToken }),
	field("DOCKER_HOST", DefaultDockerHost, func(c *Config) *string { return &c.DockerHost }, parseDockerHost, str),
	field("ECS_LOGLEVEL", "info", func(c *Config) *string { return &c.LogLevel }, enum(logLevels...), str),
	field("ECS_LOGFILE", "", func(c *Config) *string { return &c.LogFile }, parsePath, str),
	// The ECS agent defaults to true only when ECS_DATADIR is set; this
	// agent always keeps its store.
	field("ECS_CHECKPOINT", "true", func(c *Config) *bool { return &c.Checkpoint }, parseBool, fmtBool),
	field("ECS_DATADIR", DefaultDataDir, func(c *Config) *string { return &c.DataDir }, parsePath, str),
	field("ECS_UPDATES_ENABLED", "false", func(c *Config) *bool { return &c.UpdatesEnabled }, parseBool, fmtBool),
	field("ECS_UPDATE_DOWNLOAD_DIR", "", func(c *Config) *string { return &c.UpdateDownloadDir }, parsePath, str),
	field("ECS_DISABLE_METRICS", "false", func(c *Config) *bool { return &c.DisableMetrics }, parseBool, fmtBool),
	field("ECS_RESERVED_MEMORY", "0", func(c *Config) *int64 { return &c.ReservedMemory }, parseMiB, fmtInt64),
	// Newer ECS agents default to ["json-file","none"]; the README this
	// agent follows says ["json-file"].
	field("ECS_AVAILABLE_LOGGING_DRIVERS", `["json-file"]`, func(c *Config) *[]string { return &c.AvailableLoggingDrivers }, parseStrings, formatJSON),
	field("ECS_DISABLE_PRIVILEGED", "false", func(c *Config) *bool { return &c.DisablePrivileged }, parseBool, fmtBool),
	field("ECS_SELINUX_CAPABLE", "false", func(c *Config) *bool { return &c.SELinuxCapable }, parseBool, fmtBool),
	field("ECS_APPARMOR_CAPABLE", "false", func(c *Config) *bool { return &c.AppArmorCapable }, parseBool, fmtBool),
	field("ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION", "3h", func(c *Config) *time.Duration { return &c.TaskCleanupWaitDuration }, parseDuration, fmtDuration),
	field("ECS_CONTAINER_STOP_TIMEOUT", "30s", func(c *Config) *time.Duration { return &c.ContainerStopTimeout }, parseDuration, fmtDuration),
	field("ECS_ENABLE_TASK_IAM_ROLE", "false", func(c *Config) *bool { return &c.TaskIAMRoleEnabled }, parseBool, fmtBool),
	field("ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST", "false", func(c *Config) *bool { return &c.TaskIAMRoleEnabledForNetworkHost }, parseBool, fmtBool),
	// ecs-init's, read by ecs-agent setup-host.
	field("ECS_SKIP_LOCALHOST_TRAFFIC_FILTER", "false", func(c *Config) *bool { return &c.SkipLocalhostTrafficFilter }, parseBool, fmtBool),
	field("ECS_ALLOW_OFFHOST_INTROSPECTION_ACCESS", "false", func(c *Config) *bool { return &c.AllowOffhostIntrospectionAccess }, parseBool, fmtBool),
	field("ECS_DISABLE_IMAGE_CLEANUP", "false", func(c *Config) *bool { return &c.ImageCleanupDisabled }, parseBool, fmtBool),
	field("ECS_IMAGE_CLEANUP_INTERVAL", "30m", func(c *Config) *time.Duration { return &c.ImageCleanupInterval }, parseDuration, fmtDuration),
	field("ECS_IMAGE_MINIMUM_CLEANUP_AGE", "1h", func(c *Config) *time.Duration { return &c.ImageMinimumCleanupAge }, parseDuration, fmtDuration),
	field("ECS_NUM_IMAGES_DELETE_PER_CYCLE", "5", func(c *Config) *int { return &c.NumImagesToDeletePerCycle }, parseInt, fmtInt),
	field("ECS_INSTANCE_ATTRIBUTES", "{}", func(c *Config) *map[string]string { return &c.InstanceAttributes }, parseStringMap(128, 128), formatJSON),

	// Later ECS agent variables (its current README).
	field("ECS_BACKEND_HOST", "", func(c *Config) *string { return &c.BackendHost }, parseBackendHost, str),
	field("ECS_IMAGE_PULL_BEHAVIOR", string(apiv1.PullDefault), func(c *Config) *apiv1.PullBehavior { return &c.ImagePullBehavior }, parsePullBehavior, str[apiv1.PullBehavior]),
	field("ECS_IMAGE_PULL_TIMEOUT", "2h", func(c *Config) *time.Duration { return &c.ImagePullTimeout }, parsePositiveDuration, fmtDuration),
	field("ECS_IMAGE_PULL_INACTIVITY_TIMEOUT", "1m", func(c *Config) *time.Duration { return &c.ImagePullInactivityTimeout }, parsePositiveDuration, fmtDuration),
	field("ECS_ENABLE_TASK_CPU_MEM_LIMIT", "true", func(c *Config) *bool { return &c.TaskCPUMemLimit }, parseBool, fmtBool),
	field("ECS_CGROUP_PATH", "/sys/fs/cgroup", func(c *Config) *string { return &c.CgroupPath }, parsePath, str),
	field("ECS_EXCLUDE_UNTRACKED_IMAGE", "", func(c *Config) *[]string { return &c.ExcludeUntrackedImages }, parseCommaList, fmtCommaList),
	field("ECS_CONTAINER_INSTANCE_TAGS", "{}", func(c *Config) *map[string]string { return &c.ContainerInstanceTags }, parseStringMap(128, 256), formatJSON),
	rpsLimit,
	// The default (the kernel's ephemeral range) is filled in by finish.
	field("ECS_DYNAMIC_HOST_PORT_RANGE", "", func(c *Config) *PortRange { return &c.DynamicHostPortRange }, parsePortRange, PortRange.String),
	field("ECS_LOGLEVEL_ON_INSTANCE", "", func(c *Config) *string { return &c.LogLevelOnInstance }, enum(logLevels...), str),
	field("ECS_LOG_ROLLOVER_TYPE", "hourly", func(c *Config) *string { return &c.LogRolloverType }, enum("hourly", "size"), str),
	// The ECS agent's default is logfmt; this agent writes JSON lines.
	field("ECS_LOG_OUTPUT_FORMAT", "json", func(c *Config) *string { return &c.LogOutputFormat }, enum("json", "logfmt"), str),
	field("ECS_LOG_MAX_FILE_SIZE_MB", "10", func(c *Config) *int { return &c.LogMaxFileSizeMB }, parseWholeMB, fmtInt),
	field("ECS_LOG_MAX_ROLL_COUNT", "24", func(c *Config) *int { return &c.LogMaxRollCount }, parsePositiveInt, fmtInt),

	// Ours.
	field("ECS_STATIC_TASKS_DIR", DefaultStaticTasksDir, func(c *Config) *string { return &c.StaticTasksDir }, parsePath, str),
	field("ECS_IMAGE_CLEANUP_HIGH_THRESHOLD_PERCENT", "0", func(c *Config) *int { return &c.ImageCleanupHighThresholdPercent }, parsePercent, fmtInt),
	field("ECS_IMAGE_CLEANUP_LOW_THRESHOLD_PERCENT", "80", func(c *Config) *int { return &c.ImageCleanupLowThresholdPercent }, parsePercent, fmtInt),
	field("ECS_OFFLINE", "false", func(c *Config) *bool { return &c.Offline }, parseBool, fmtBool),
	field("ECS_POLL_INTERVAL", "10s", func(c *Config) *time.Duration { return &c.PollInterval }, parsePositiveDuration, fmtDuration),
	field("ECS_ENABLE_TASK_METRICS", "false", func(c *Config) *bool { return &c.TaskMetrics }, parseBool, fmtBool),
	field("ECS_INTROSPECTION_PORT", fmt.Sprint(DefaultIntrospectionPort), func(c *Config) *int { return &c.IntrospectionPort }, parsePort, fmtInt),
	field("ECS_TASK_METADATA_PORT", fmt.Sprint(DefaultTaskMetadataPort), func(c *Config) *int { return &c.TaskMetadataPort }, parsePort, fmtInt),
}

// logLevels are the ECS agent's log levels, ECS_LOGLEVEL's values.
var logLevels = []string{"crit", "error", "warn", "info", "debug"}

// rpsLimit is ECS_TASK_METADATA_RPS_LIMIT. A bad value (not two positive
// whole numbers) is ignored with a warning, as the ECS agent ignores it.
var rpsLimit = variable{
	name: "ECS_TASK_METADATA_RPS_LIMIT",
	def:  "40,60",
	parse: func(c *Config, s string) error {
		r, b, ok := strings.Cut(s, ",")
		rate, err1 := strconv.Atoi(strings.TrimSpace(r))
		burst, err2 := strconv.Atoi(strings.TrimSpace(b))
		if !ok || err1 != nil || err2 != nil || rate <= 0 || burst <= 0 {
			c.warnf("ECS_TASK_METADATA_RPS_LIMIT=%q is not rate,burst (two positive whole numbers, e.g. 40,60) and is ignored: using 40,60", s)
			rate, burst = 40, 60
		}
		c.TaskMetadataRateLimit = RateLimit{Rate: rate, Burst: burst}
		return nil
	},
	format: func(c *Config) string { return c.TaskMetadataRateLimit.String() },
}

// Variables read outside the table.
const (
	envConfigFile = "ECS_CONFIG_FILE"
	envAWSRegion  = "AWS_REGION"
)

func variableNamed(name string) variable {
	for _, v := range variables {
		if v.name == name {
			return v
		}
	}
	panic("config: no variable " + name)
}

// known reports whether name is a variable the agent reads.
func known(name string) bool {
	if name == envConfigFile || name == envAWSRegion {
		return true
	}
	for _, v := range variables {
		if v.name == name {
			return true
		}
	}
	return false
}

// ValueError is a variable set to a value the agent cannot use.
type ValueError struct {
	// Name is the variable.
	Name string
	// Value is the value as set, or Redacted for a secret.
	Value string
	// Where is "file:line" when the value came from the configuration
	// file, "" when it came from the environment.
	Where string
	// Err says what was expected.
	Err error
}

// Error implements error: `[file:line: ]NAME="value": what was expected`.
func (e *ValueError) Error() string {
	v := fmt.Sprintf("%q", e.Value)
	if e.Value == Redacted {
		v = Redacted
	}
	msg := fmt.Sprintf("%s=%s: %v", e.Name, v, e.Err)
	if e.Where != "" {
		msg = e.Where + ": " + msg
	}
	return msg
}

// Unwrap returns what was expected.
func (e *ValueError) Unwrap() error { return e.Err }

func newValueError(v variable, value, where string, err error) *ValueError {
	if v.secret {
		value = Redacted
	}
	return &ValueError{Name: v.name, Value: value, Where: where, Err: err}
}

// apply sets v's default, then v's value if it is set.
func (r *resolver) apply(c *Config, v variable) []error {
	if v.def != "" {
		if err := v.parse(c, v.def); err != nil {
			panic(fmt.Sprintf("config: default of %s: %v", v.name, err))
		}
	}
	value, where, ok := r.lookup(v.name)
	if !ok {
		return nil
	}
	if err := v.parse(c, value); err != nil {
		return []error{newValueError(v, value, where, err)}
	}
	return nil
}

func parsePercent(s string) (int, error) {
	n, err := parseInt(s)
	if err == nil && (n < 0 || n > 100) {
		err = errors.New("must be a percentage from 0 to 100")
	}
	return n, err
}

// diskThresholds checks that the disk-usage mode of image cleanup stops
// below where it starts.
func diskThresholds(c *Config) []error {
	high, low := c.ImageCleanupHighThresholdPercent, c.ImageCleanupLowThresholdPercent
	if high == 0 || low < high {
		return nil
	}
	return []error{fmt.Errorf("ECS_IMAGE_CLEANUP_LOW_THRESHOLD_PERCENT=%d must be below ECS_IMAGE_CLEANUP_HIGH_THRESHOLD_PERCENT=%d: cleanup starts at the high mark and stops under the low one", low, high)}
}
