package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// testLoader reads no host file: the default config file is missing and the
// kernel's port range is a temp file holding Linux's default.
func testLoader(t *testing.T) Loader {
	t.Helper()
	dir := t.TempDir()
	pr := filepath.Join(dir, "ip_local_port_range")
	if err := os.WriteFile(pr, []byte("32768\t60999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return Loader{DefaultFile: filepath.Join(dir, "missing.config"), EphemeralPortRangeFile: pr}
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ecs.config")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustLoad(t *testing.T, env []string, content string) *Config {
	t.Helper()
	file := ""
	if content != "" {
		file = writeConfig(t, content)
	}
	c, err := testLoader(t).Load(env, file)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestDefaultsAreTheECSAgentsLinuxDefaults(t *testing.T) {
	c := mustLoad(t, nil, "")
	want := map[string]string{
		"ECS_CONFIG_FILE":                          "",
		"ECS_CLUSTER":                              "default",
		"ECS_RESERVED_PORTS":                       "[22,2375,2376,51678,51679]",
		"ECS_RESERVED_PORTS_UDP":                   "[]",
		"ECS_ENGINE_AUTH_TYPE":                     "",
		"ECS_ENGINE_AUTH_DATA":                     "",
		"AWS_DEFAULT_REGION":                       "",
		"AWS_ACCESS_KEY_ID":                        "",
		"AWS_SECRET_ACCESS_KEY":                    "",
		"AWS_SESSION_TOKEN":                        "",
		"DOCKER_HOST":                              "unix:///var/run/docker.sock",
		"ECS_LOGLEVEL":                             "info",
		"ECS_LOGFILE":                              "",
		"ECS_CHECKPOINT":                           "true",
		"ECS_DATADIR":                              "/var/lib/ecs/data",
		"ECS_UPDATES_ENABLED":                      "false",
		"ECS_UPDATE_DOWNLOAD_DIR":                  "",
		"ECS_DISABLE_METRICS":                      "false",
		"ECS_RESERVED_MEMORY":                      "0",
		"ECS_AVAILABLE_LOGGING_DRIVERS":            `["json-file"]`,
		"ECS_DISABLE_PRIVILEGED":                   "false",
		"ECS_SELINUX_CAPABLE":                      "false",
		"ECS_APPARMOR_CAPABLE":                     "false",
		"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION":    "3h",
		"ECS_CONTAINER_STOP_TIMEOUT":               "30s",
		"ECS_ENABLE_TASK_IAM_ROLE":                 "false",
		"ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST":    "false",
		"ECS_SKIP_LOCALHOST_TRAFFIC_FILTER":        "false",
		"ECS_ALLOW_OFFHOST_INTROSPECTION_ACCESS":   "false",
		"ECS_DISABLE_IMAGE_CLEANUP":                "false",
		"ECS_IMAGE_CLEANUP_INTERVAL":               "30m",
		"ECS_IMAGE_MINIMUM_CLEANUP_AGE":            "1h",
		"ECS_NUM_IMAGES_DELETE_PER_CYCLE":          "5",
		"ECS_INSTANCE_ATTRIBUTES":                  "{}",
		"ECS_BACKEND_HOST":                         "",
		"ECS_IMAGE_PULL_BEHAVIOR":                  "default",
		"ECS_IMAGE_PULL_TIMEOUT":                   "2h",
		"ECS_IMAGE_PULL_INACTIVITY_TIMEOUT":        "1m",
		"ECS_ENABLE_TASK_CPU_MEM_LIMIT":            "true",
		"ECS_CGROUP_PATH":                          "/sys/fs/cgroup",
		"ECS_EXCLUDE_UNTRACKED_IMAGE":              "",
		"ECS_CONTAINER_INSTANCE_TAGS":              "{}",
		"ECS_TASK_METADATA_RPS_LIMIT":              "40,60",
		"ECS_DYNAMIC_HOST_PORT_RANGE":              "32768-60999",
		"ECS_LOGLEVEL_ON_INSTANCE":                 "",
		"ECS_LOG_ROLLOVER_TYPE":                    "hourly",
		"ECS_LOG_OUTPUT_FORMAT":                    "json", // the ECS agent's is logfmt
		"ECS_LOG_MAX_FILE_SIZE_MB":                 "10",
		"ECS_LOG_MAX_ROLL_COUNT":                   "24",
		"ECS_STATIC_TASKS_DIR":                     "/etc/ecs/tasks.d",
		"ECS_OFFLINE":                              "false",
		"ECS_POLL_INTERVAL":                        "10s",
		"ECS_ENABLE_TASK_METRICS":                  "false",
		"ECS_IMAGE_CLEANUP_HIGH_THRESHOLD_PERCENT": "0",
		"ECS_IMAGE_CLEANUP_LOW_THRESHOLD_PERCENT":  "80",
		"ECS_INTROSPECTION_PORT":                   "51678",
		"ECS_TASK_METADATA_PORT":                   "51679",
	}
	got := c.Redacted()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("variable %s has no expected default in this test", k)
		}
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings with no configuration: %q", c.Warnings)
	}
	// The typed fields the rest of the agent uses.
	if c.ContainerStopTimeout != 30*time.Second || c.TaskCleanupWaitDuration != 3*time.Hour ||
		c.ImagePullTimeout != 2*time.Hour || c.IntrospectionPort != 51678 || c.TaskMetadataPort != 51679 ||
		!reflect.DeepEqual(c.ReservedPorts, []int{22, 2375, 2376, 51678, 51679}) ||
		c.DynamicHostPortRange != (PortRange{32768, 60999}) || c.DBPath() != "/var/lib/ecs/data/agent.db" ||
		c.InstanceAttributes == nil || c.ImagePullBehavior != apiv1.PullDefault {
		t.Errorf("typed defaults wrong: %+v", c)
	}
}

func TestEveryVariableKindIsParsed(t *testing.T) {
	tests := []struct {
		name, value string
		want        string // as Redacted shows it; "" means value itself
		check       func(c *Config) bool
	}{
		{"ECS_CLUSTER", "prod-1_a", "", func(c *Config) bool { return c.Cluster == "prod-1_a" }},
		{"ECS_CLUSTER", "arn:aws:ecs:us-west-2:123456789012:cluster/prod", "", nil},
		{"ECS_RESERVED_PORTS", "[8080, 22, 22]", "[22,8080]", func(c *Config) bool { return reflect.DeepEqual(c.ReservedPorts, []int{22, 8080}) }},
		{"ECS_RESERVED_PORTS", "[]", "[]", func(c *Config) bool { return len(c.ReservedPorts) == 0 }},
		{"ECS_RESERVED_PORTS_UDP", "[53,123]", "[53,123]", nil},
		{"AWS_DEFAULT_REGION", "us-gov-west-1", "", func(c *Config) bool { return c.Region == "us-gov-west-1" }},
		{"DOCKER_HOST", "tcp://127.0.0.1:2375", "", nil},
		{"ECS_LOGLEVEL", "DEBUG", "debug", nil},
		{"ECS_LOGFILE", "/var/log/ecs/ecs-agent.log", "", nil},
		{"ECS_CHECKPOINT", "1", "true", nil},
		{"ECS_DATADIR", "/srv/ecs/", "/srv/ecs", func(c *Config) bool { return c.DBPath() == "/srv/ecs/agent.db" }},
		{"ECS_UPDATES_ENABLED", "TRUE", "true", func(c *Config) bool { return c.UpdatesEnabled }},
		{"ECS_UPDATE_DOWNLOAD_DIR", "/cache", "", nil},
		{"ECS_DISABLE_METRICS", "t", "true", func(c *Config) bool { return c.DisableMetrics }},
		{"ECS_ENABLE_TASK_METRICS", "1", "true", func(c *Config) bool { return c.TaskMetrics }},
		{"ECS_RESERVED_MEMORY", "256", "", func(c *Config) bool { return c.ReservedMemory == 256 }},
		{"ECS_AVAILABLE_LOGGING_DRIVERS", `["json-file","awslogs"]`, "", func(c *Config) bool {
			return reflect.DeepEqual(c.AvailableLoggingDrivers, []string{"json-file", "awslogs"})
		}},
		{"ECS_DISABLE_PRIVILEGED", "true", "", func(c *Config) bool { return c.DisablePrivileged }},
		{"ECS_SELINUX_CAPABLE", "true", "", func(c *Config) bool { return c.SELinuxCapable }},
		{"ECS_APPARMOR_CAPABLE", "true", "", func(c *Config) bool { return c.AppArmorCapable }},
		{"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION", "1h30m", "", func(c *Config) bool { return c.TaskCleanupWaitDuration == 90*time.Minute }},
		{"ECS_CONTAINER_STOP_TIMEOUT", "10m", "", func(c *Config) bool { return c.ContainerStopTimeout == 10*time.Minute }},
		{"ECS_ENABLE_TASK_IAM_ROLE", "true", "", func(c *Config) bool { return c.TaskIAMRoleEnabled }},
		{"ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST", "true", "", func(c *Config) bool { return c.TaskIAMRoleEnabledForNetworkHost }},
		{"ECS_DISABLE_IMAGE_CLEANUP", "true", "", func(c *Config) bool { return c.ImageCleanupDisabled }},
		{"ECS_IMAGE_CLEANUP_INTERVAL", "1h", "", func(c *Config) bool { return c.ImageCleanupInterval == time.Hour }},
		{"ECS_IMAGE_MINIMUM_CLEANUP_AGE", "0s", "", func(c *Config) bool { return c.ImageMinimumCleanupAge == 0 }},
		{"ECS_NUM_IMAGES_DELETE_PER_CYCLE", "12", "", func(c *Config) bool { return c.NumImagesToDeletePerCycle == 12 }},
		{"ECS_INSTANCE_ATTRIBUTES", `{"stack": "prod"}`, `{"stack":"prod"}`, func(c *Config) bool { return c.InstanceAttributes["stack"] == "prod" }},
		{"ECS_BACKEND_HOST", "https://ecs.us-west-2.amazonaws.com", "", nil},
		{"ECS_BACKEND_HOST", "127.0.0.1:8443", "https://127.0.0.1:8443", nil},
		{"ECS_IMAGE_PULL_BEHAVIOR", "prefer-cached", "", func(c *Config) bool { return c.ImagePullBehavior == apiv1.PullPreferCached }},
		{"ECS_IMAGE_PULL_TIMEOUT", "45m", "", func(c *Config) bool { return c.ImagePullTimeout == 45*time.Minute }},
		{"ECS_IMAGE_PULL_INACTIVITY_TIMEOUT", "3m", "", func(c *Config) bool { return c.ImagePullInactivityTimeout == 3*time.Minute }},
		{"ECS_ENABLE_TASK_CPU_MEM_LIMIT", "false", "", func(c *Config) bool { return !c.TaskCPUMemLimit }},
		{"ECS_CGROUP_PATH", "/host/cgroup", "", func(c *Config) bool { return c.CgroupPath == "/host/cgroup" }},
		{"ECS_EXCLUDE_UNTRACKED_IMAGE", "alpine:latest, busybox:1 ,", "alpine:latest,busybox:1", func(c *Config) bool {
			return reflect.DeepEqual(c.ExcludeUntrackedImages, []string{"alpine:latest", "busybox:1"})
		}},
		{"ECS_CONTAINER_INSTANCE_TAGS", `{"team":"infra"}`, "", func(c *Config) bool { return c.ContainerInstanceTags["team"] == "infra" }},
		{"ECS_DYNAMIC_HOST_PORT_RANGE", "100-200", "", func(c *Config) bool { return c.DynamicHostPortRange == PortRange{100, 200} }},
		{"ECS_STATIC_TASKS_DIR", "/srv/tasks", "", nil},
		{"ECS_OFFLINE", "true", "", func(c *Config) bool { return c.Offline }},
		{"ECS_INTROSPECTION_PORT", "61678", "", func(c *Config) bool { return c.IntrospectionPort == 61678 }},
		{"ECS_TASK_METADATA_PORT", "61679", "", func(c *Config) bool { return c.TaskMetadataPort == 61679 }},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			c := mustLoad(t, []string{tt.name + "=" + tt.value}, "")
			want := tt.want
			if want == "" {
				want = tt.value
			}
			if got := c.Redacted()[tt.name]; got != want {
				t.Errorf("%s shows as %q, want %q", tt.name, got, want)
			}
			if tt.check != nil && !tt.check(c) {
				t.Errorf("field not set: %+v", c)
			}
		})
	}
}

func TestRelativePathsAreMadeAbsoluteAtLoad(t *testing.T) {
	c := mustLoad(t, []string{"ECS_DATADIR=data", "ECS_STATIC_TASKS_DIR=./tasks"}, "")
	wd, _ := os.Getwd()
	if c.DataDir != filepath.Join(wd, "data") || c.StaticTasksDir != filepath.Join(wd, "tasks") {
		t.Errorf("DataDir %q, StaticTasksDir %q: want them under %s", c.DataDir, c.StaticTasksDir, wd)
	}
}

func TestBadValuesAreErrorsNamingVariableValueAndExpectation(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"ECS_CONTAINER_STOP_TIMEOUT", "ten", `ECS_CONTAINER_STOP_TIMEOUT="ten": not a duration (e.g. 30s, 10m)`},
		{"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION", "10", `ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION="10": not a duration (e.g. 30s, 10m)`},
		{"ECS_IMAGE_MINIMUM_CLEANUP_AGE", "-1h", `ECS_IMAGE_MINIMUM_CLEANUP_AGE="-1h": a negative duration (expected e.g. 30s, 10m)`},
		{"ECS_IMAGE_PULL_TIMEOUT", "0s", `ECS_IMAGE_PULL_TIMEOUT="0s": must be more than 0 (e.g. 30s, 10m)`},
		{"ECS_OFFLINE", "yes", `ECS_OFFLINE="yes": not a boolean (true or false)`},
		{"ECS_DISABLE_PRIVILEGED", "on", `ECS_DISABLE_PRIVILEGED="on": not a boolean (true or false)`},
		{"ECS_INTROSPECTION_PORT", "0", `ECS_INTROSPECTION_PORT="0": not a port (1-65535)`},
		{"ECS_TASK_METADATA_PORT", "65536", `ECS_TASK_METADATA_PORT="65536": not a port (1-65535)`},
		{"ECS_TASK_METADATA_PORT", "http", `ECS_TASK_METADATA_PORT="http": not a port (1-65535)`},
		{"ECS_RESERVED_PORTS", "22,80", `ECS_RESERVED_PORTS="22,80": not a JSON array of ports (e.g. [22, 2375, 2376])`},
		{"ECS_RESERVED_PORTS", "[22, 70000]", `ECS_RESERVED_PORTS="[22, 70000]": port 70000 is not in 1-65535`},
		{"ECS_RESERVED_PORTS_UDP", `["53"]`, `ECS_RESERVED_PORTS_UDP="[\"53\"]": not a JSON array of ports (e.g. [22, 2375, 2376])`},
		{"ECS_LOGLEVEL", "verbose", `ECS_LOGLEVEL="verbose": not one of crit, error, warn, info, debug`},
		{"ECS_ENGINE_AUTH_TYPE", "basic", `ECS_ENGINE_AUTH_TYPE="basic": not one of docker, dockercfg`},
		{"ECS_IMAGE_PULL_BEHAVIOR", "never", `ECS_IMAGE_PULL_BEHAVIOR="never": not one of default, always, once, prefer-cached`},
		{"ECS_RESERVED_MEMORY", "1GB", `ECS_RESERVED_MEMORY="1GB": not a whole number of MiB (e.g. 256)`},
		{"ECS_RESERVED_MEMORY", "-5", `ECS_RESERVED_MEMORY="-5": a negative amount of memory (expected MiB, e.g. 256)`},
		{"ECS_NUM_IMAGES_DELETE_PER_CYCLE", "five", `ECS_NUM_IMAGES_DELETE_PER_CYCLE="five": not a whole number`},
		{"ECS_AVAILABLE_LOGGING_DRIVERS", "json-file", `ECS_AVAILABLE_LOGGING_DRIVERS="json-file": not a JSON array of strings (e.g. ["json-file","syslog"])`},
		{"ECS_AVAILABLE_LOGGING_DRIVERS", `["json-file",""]`, `ECS_AVAILABLE_LOGGING_DRIVERS="[\"json-file\",\"\"]": an empty string in the list (expected e.g. ["json-file","syslog"])`},
		{"ECS_INSTANCE_ATTRIBUTES", `{"n": 1}`, `ECS_INSTANCE_ATTRIBUTES="{\"n\": 1}": not a JSON object of strings (e.g. {"stack": "prod"})`},
		{"ECS_INSTANCE_ATTRIBUTES", `["a"]`, `ECS_INSTANCE_ATTRIBUTES="[\"a\"]": not a JSON object of strings (e.g. {"stack": "prod"})`},
		{"ECS_CONTAINER_INSTANCE_TAGS", `{"": "x"}`, `ECS_CONTAINER_INSTANCE_TAGS="{\"\": \"x\"}": an empty key`},
		{"ECS_CONTAINER_INSTANCE_TAGS", `{"k": "` + strings.Repeat("v", 257) + `"}`, `the value of "k" is longer than 256 characters`},
		{"ECS_DYNAMIC_HOST_PORT_RANGE", "100", `ECS_DYNAMIC_HOST_PORT_RANGE="100": not a port range (start-end, in 1-65535, e.g. 32768-60999)`},
		{"ECS_DYNAMIC_HOST_PORT_RANGE", "0-100", `ECS_DYNAMIC_HOST_PORT_RANGE="0-100": not a port range (start-end, in 1-65535, e.g. 32768-60999)`},
		{"ECS_DYNAMIC_HOST_PORT_RANGE", "200-100", `ECS_DYNAMIC_HOST_PORT_RANGE="200-100": the range's start is above its end (expected start-end, e.g. 32768-60999)`},
		{"ECS_CLUSTER", "my cluster", `ECS_CLUSTER="my cluster": not a cluster name (up to 255 letters, digits, - and _) or cluster ARN`},
		{"AWS_DEFAULT_REGION", "Oregon", `AWS_DEFAULT_REGION="Oregon": not an AWS region (e.g. us-west-2)`},
		{"AWS_REGION", "us_west_2", `AWS_REGION="us_west_2": not an AWS region (e.g. us-west-2)`},
		{"DOCKER_HOST", "/var/run/docker.sock", `DOCKER_HOST="/var/run/docker.sock": not a Docker daemon address (e.g. unix:///var/run/docker.sock, tcp://127.0.0.1:2375)`},
		{"DOCKER_HOST", "ssh://me@host", `DOCKER_HOST="ssh://me@host": scheme "ssh" is not one of unix, tcp, http, https`},
		{"ECS_BACKEND_HOST", "ftp://x", `ECS_BACKEND_HOST="ftp://x": not an endpoint (e.g. https://ecs.us-west-2.amazonaws.com)`},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := testLoader(t).Load([]string{tt.name + "=" + tt.value}, "")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant %q", err, tt.want)
			}
			var ve *ValueError
			if !errors.As(err, &ve) || ve.Name != tt.name {
				t.Errorf("error is not a *ValueError for %s: %#v", tt.name, err)
			}
		})
	}
}

func TestAllBadValuesAreReportedTogether(t *testing.T) {
	file := writeConfig(t, "ECS_LOGLEVEL=loud\nnonsense\n")
	_, err := testLoader(t).Load([]string{"ECS_CONTAINER_STOP_TIMEOUT=ten", "ECS_OFFLINE=maybe"}, file)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`ECS_CONTAINER_STOP_TIMEOUT="ten": not a duration`,
		`ECS_OFFLINE="maybe": not a boolean`,
		file + `:1: ECS_LOGLEVEL="loud": not one of`,
		file + `:2: expected KEY=VALUE`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
}

func TestCrossVariableErrors(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"same port twice", []string{"ECS_TASK_METADATA_PORT=51678"}, "ECS_INTROSPECTION_PORT and ECS_TASK_METADATA_PORT are both 51678: they must differ"},
		{"key id alone", []string{"AWS_ACCESS_KEY_ID=AKID"}, "AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY"},
		{"secret alone", []string{"AWS_SECRET_ACCESS_KEY=s3cr3t"}, "AWS_SECRET_ACCESS_KEY is set without AWS_ACCESS_KEY_ID"},
		{"token alone", []string{"AWS_SESSION_TOKEN=tok"}, "AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"},
		{"auth data without type", []string{`ECS_ENGINE_AUTH_DATA={"r":{"username":"u","password":"p"}}`}, "ECS_ENGINE_AUTH_DATA is set but ECS_ENGINE_AUTH_TYPE is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testLoader(t).Load(tt.env, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestRegionFallsBackToAWSRegion(t *testing.T) {
	c := mustLoad(t, []string{"AWS_REGION=eu-west-1"}, "")
	if c.Region != "eu-west-1" || len(c.Warnings) != 0 {
		t.Errorf("Region %q, warnings %q", c.Region, c.Warnings)
	}
	c = mustLoad(t, []string{"AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=us-east-1"}, "")
	if c.Region != "us-east-1" || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "differ") {
		t.Errorf("Region %q, warnings %q", c.Region, c.Warnings)
	}
}

// TestConfigFileOthersCanWriteIsRefused: ecs.config decides what runs and
// holds registry credentials; a copy any local user could edit is refused
// with the fix, and the agent does not start on it.
func TestConfigFileOthersCanWriteIsRefused(t *testing.T) {
	p := writeConfig(t, "ECS_CLUSTER=prod\n")
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	_, err := testLoader(t).Load(nil, p)
	if err == nil || !strings.Contains(err.Error(), "chmod go-w "+p) {
		t.Fatalf("Load of a world-writable ecs.config: %v, want a refusal naming chmod go-w %s", err, p)
	}
}

// /dev/null is how the tests and some operators say "no file"; it is not a
// regular file, and reads as empty.
func TestDevNullIsNoFile(t *testing.T) {
	c, err := testLoader(t).Load([]string{"ECS_CONFIG_FILE=" + os.DevNull}, "")
	if err != nil || c.Cluster != "default" {
		t.Fatalf("Load with ECS_CONFIG_FILE=/dev/null: %v, cluster %q", err, c.Cluster)
	}
}

// A bad ECS_TASK_METADATA_RPS_LIMIT is ignored with a warning, as the ECS
// agent ignores it; a good one is taken.
func TestTaskMetadataRateLimitFallsBackToTheDefaultWithAWarning(t *testing.T) {
	for value, want := range map[string]RateLimit{
		"10,20": {10, 20}, " 5 , 7 ": {5, 7}, "0,60": {40, 60}, "40": {40, 60}, "a,b": {40, 60}, "40,-1": {40, 60},
	} {
		c, err := Loader{DefaultFile: "/nonexistent", EphemeralPortRangeFile: "/nonexistent"}.Load([]string{"ECS_TASK_METADATA_RPS_LIMIT=" + value}, "")
		if err != nil {
			t.Fatalf("%q: %v", value, err)
		}
		warned := strings.Contains(strings.Join(c.Warnings, "\n"), "ECS_TASK_METADATA_RPS_LIMIT")
		if c.TaskMetadataRateLimit != want || warned != (want == RateLimit{40, 60}) {
			t.Errorf("%q: limit %v, warned %v; want %v", value, c.TaskMetadataRateLimit, warned, want)
		}
	}
}

// Task metrics come from the stats sampler, which ECS_DISABLE_METRICS turns
// off: asking for both is said at start-up, not left to puzzle over.
func TestTaskMetricsWithMetricsDisabledIsWarnedAbout(t *testing.T) {
	c := mustLoad(t, []string{"ECS_ENABLE_TASK_METRICS=true", "ECS_DISABLE_METRICS=true"}, "")
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "ECS_ENABLE_TASK_METRICS=true has no effect with ECS_DISABLE_METRICS=true") {
		t.Errorf("warnings %q, want one naming both variables", c.Warnings)
	}
	if c := mustLoad(t, []string{"ECS_ENABLE_TASK_METRICS=true"}, ""); !c.TaskMetrics || len(c.Warnings) != 0 {
		t.Errorf("ECS_ENABLE_TASK_METRICS=true alone: TaskMetrics %v, warnings %q", c.TaskMetrics, c.Warnings)
	}
}
