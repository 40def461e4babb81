package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEnvironmentWinsOverFile(t *testing.T) {
	file := "ECS_CLUSTER=from-file\n" +
		"ECS_LOGLEVEL=debug\n" +
		"ECS_OFFLINE=true\n" +
		"ECS_INTROSPECTION_PORT=61678\n"
	tests := []struct {
		name      string
		env       []string
		cluster   string
		level     string
		offline   bool
		introPort int
	}{
		{"file alone", nil, "from-file", "debug", true, 61678},
		{"env overrides", []string{"ECS_CLUSTER=from-env", "ECS_OFFLINE=false"}, "from-env", "debug", false, 61678},
		{"empty env value counts as unset", []string{"ECS_CLUSTER=", "ECS_LOGLEVEL="}, "from-file", "debug", true, 61678},
		{"first of duplicate env entries wins, like os.Getenv", []string{"ECS_CLUSTER=first", "ECS_CLUSTER=second"}, "first", "debug", true, 61678},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.env, file)
			if c.Cluster != tt.cluster || c.LogLevel != tt.level || c.Offline != tt.offline || c.IntrospectionPort != tt.introPort {
				t.Errorf("got cluster %q level %q offline %v port %d", c.Cluster, c.LogLevel, c.Offline, c.IntrospectionPort)
			}
		})
	}
}

func TestFileQuotesCommentsAndExportReachTheConfig(t *testing.T) {
	c := mustLoad(t, nil, `# written by user data
export ECS_CLUSTER="quoted"
ECS_RESERVED_PORTS='[22, 8080]'
ECS_INSTANCE_ATTRIBUTES={"stack": "prod"}

; systemd comment
ECS_CONTAINER_STOP_TIMEOUT="1m"
`)
	if c.Cluster != "quoted" || len(c.ReservedPorts) != 2 || c.InstanceAttributes["stack"] != "prod" || c.ContainerStopTimeout != time.Minute {
		t.Errorf("got %+v", c)
	}
}

func TestBadValueInFileNamesFileAndLine(t *testing.T) {
	file := writeConfig(t, "ECS_CLUSTER=ok\n\nECS_CONTAINER_STOP_TIMEOUT=ten\n")
	_, err := testLoader(t).Load(nil, file)
	want := file + `:3: ECS_CONTAINER_STOP_TIMEOUT="ten": not a duration (e.g. 30s, 10m)`
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

func TestWhichFileIsRead(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.config")
	present := writeConfig(t, "ECS_CLUSTER=from-file\n")

	t.Run("missing default file is fine", func(t *testing.T) {
		c, err := testLoader(t).Load(nil, "")
		if err != nil || c.ConfigFile != "" || c.Cluster != "default" {
			t.Errorf("c %+v, err %v", c, err)
		}
	})
	t.Run("present default file is read", func(t *testing.T) {
		l := testLoader(t)
		l.DefaultFile = present
		c, err := l.Load(nil, "")
		if err != nil || c.ConfigFile != present || c.Cluster != "from-file" {
			t.Errorf("c %+v, err %v", c, err)
		}
	})
	t.Run("ECS_CONFIG_FILE names the file", func(t *testing.T) {
		c, err := testLoader(t).Load([]string{"ECS_CONFIG_FILE=" + present}, "")
		if err != nil || c.Cluster != "from-file" {
			t.Errorf("c %+v, err %v", c, err)
		}
	})
	t.Run("argument wins over ECS_CONFIG_FILE", func(t *testing.T) {
		c, err := testLoader(t).Load([]string{"ECS_CONFIG_FILE=" + missing}, present)
		if err != nil || c.Cluster != "from-file" {
			t.Errorf("c %+v, err %v", c, err)
		}
	})
	t.Run("missing file given as argument is an error naming it", func(t *testing.T) {
		_, err := testLoader(t).Load(nil, missing)
		want := `configuration file "` + missing + `": no such file or directory`
		if err == nil || err.Error() != want {
			t.Errorf("error %v\nwant %s", err, want)
		}
	})
	t.Run("missing file in ECS_CONFIG_FILE is an error naming it", func(t *testing.T) {
		_, err := testLoader(t).Load([]string{"ECS_CONFIG_FILE=" + missing}, "")
		want := `ECS_CONFIG_FILE="` + missing + `": cannot read the configuration file: no such file or directory`
		if err == nil || err.Error() != want {
			t.Errorf("error %v\nwant %s", err, want)
		}
	})
	t.Run("a directory is not a file", func(t *testing.T) {
		_, err := testLoader(t).Load(nil, dir)
		if err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("error %v, want one naming %s", err, dir)
		}
	})
}

func TestIgnoredValuesWarnAsTheECSAgentIgnoresThem(t *testing.T) {
	tests := []struct {
		name  string
		env   []string
		check func(c *Config) bool
		warn  string // "" means no warning
	}{
		{"short cleanup wait ignored", []string{"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=30s"},
			func(c *Config) bool { return c.TaskCleanupWaitDuration == 3*time.Hour },
			"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=30s is below the ECS agent's minimum of 1m and is ignored: using 3h (with ECS_OFFLINE=true short values are honoured)"},
		{"cleanup wait at the minimum kept", []string{"ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=1m"},
			func(c *Config) bool { return c.TaskCleanupWaitDuration == time.Minute }, ""},
		{"short image cleanup interval ignored", []string{"ECS_IMAGE_CLEANUP_INTERVAL=5m"},
			func(c *Config) bool { return c.ImageCleanupInterval == 30*time.Minute },
			"ECS_IMAGE_CLEANUP_INTERVAL=5m is below the ECS agent's minimum of 10m and is ignored: using 30m (with ECS_OFFLINE=true short values are honoured)"},
		{"zero images per cycle ignored", []string{"ECS_NUM_IMAGES_DELETE_PER_CYCLE=0"},
			func(c *Config) bool { return c.NumImagesToDeletePerCycle == 5 },
			"ECS_NUM_IMAGES_DELETE_PER_CYCLE=0 is below 1 and is ignored: using 5 (ECS_DISABLE_IMAGE_CLEANUP=true turns cleanup off)"},
		{"sub-second stop timeout raised", []string{"ECS_CONTAINER_STOP_TIMEOUT=0s"},
			func(c *Config) bool { return c.ContainerStopTimeout == time.Second },
			"ECS_CONTAINER_STOP_TIMEOUT=0s is below the minimum of 1s: using 1s"},
		{"offline honours short cleanup wait", []string{"ECS_OFFLINE=true", "ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=5s"},
			func(c *Config) bool { return c.TaskCleanupWaitDuration == 5*time.Second }, ""},
		{"offline honours zero cleanup wait", []string{"ECS_OFFLINE=true", "ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=0s"},
			func(c *Config) bool { return c.TaskCleanupWaitDuration == 0 }, ""},
		{"offline honours short image cleanup interval", []string{"ECS_OFFLINE=true", "ECS_IMAGE_CLEANUP_INTERVAL=10s"},
			func(c *Config) bool { return c.ImageCleanupInterval == 10*time.Second }, ""},
		{"offline still needs an interval above zero", []string{"ECS_OFFLINE=true", "ECS_IMAGE_CLEANUP_INTERVAL=0s"},
			func(c *Config) bool { return c.ImageCleanupInterval == 30*time.Minute },
			"ECS_IMAGE_CLEANUP_INTERVAL=0s is ignored: an interval must be more than 0; using 30m"},
		{"offline does not change images per cycle", []string{"ECS_OFFLINE=true", "ECS_NUM_IMAGES_DELETE_PER_CYCLE=-1"},
			func(c *Config) bool { return c.NumImagesToDeletePerCycle == 5 }, "ECS_NUM_IMAGES_DELETE_PER_CYCLE=-1 is below 1"},
		{"checkpoint off is ignored", []string{"ECS_CHECKPOINT=false", "ECS_DATADIR=/srv/ecs"},
			func(c *Config) bool { return !c.Checkpoint },
			"ECS_CHECKPOINT=false is ignored: this agent always keeps its state in /srv/ecs/agent.db, which is what makes restarts safe"},
		{"auth type without data", []string{"ECS_ENGINE_AUTH_TYPE=docker"}, nil,
			"ECS_ENGINE_AUTH_TYPE=docker is set but ECS_ENGINE_AUTH_DATA is not: images are pulled without registry credentials"},
		{"unknown ECS variable", []string{"ECS_CLUSER=typo", "HOME=/root"}, nil,
			"ECS_CLUSER is not a variable this agent reads: ignored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.env, "")
			if tt.check != nil && !tt.check(c) {
				t.Errorf("value not as expected: %+v", c)
			}
			switch {
			case tt.warn == "" && len(c.Warnings) != 0:
				t.Errorf("unexpected warnings %q", c.Warnings)
			case tt.warn != "" && (len(c.Warnings) != 1 || !strings.HasPrefix(c.Warnings[0], tt.warn)):
				t.Errorf("warnings %q\nwant one starting %q", c.Warnings, tt.warn)
			}
		})
	}
}

func TestDynamicPortRangeDefaultsToTheKernelsEphemeralRange(t *testing.T) {
	dir := t.TempDir()
	write := func(content string) string {
		p := filepath.Join(dir, strings.NewReplacer(" ", "_", "\t", "_", "\n", "_").Replace(content)+".range")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		file string
		env  []string
		want PortRange
		warn string
	}{
		{"kernel range", write("1024\t4999\n"), nil, PortRange{1024, 4999}, ""},
		{"set range wins", write("1024\t4999\n"), []string{"ECS_DYNAMIC_HOST_PORT_RANGE=100-200"}, PortRange{100, 200}, ""},
		{"unreadable falls back", filepath.Join(dir, "absent"), nil, PortRange{32768, 60999}, "cannot read the kernel's ephemeral port range"},
		{"garbage falls back", write("hello\n"), nil, PortRange{32768, 60999}, `holds "hello", not a port range`},
		{"reversed falls back", write("5000 4000\n"), nil, PortRange{32768, 60999}, "not a port range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testLoader(t)
			l.EphemeralPortRangeFile = tt.file
			c, err := l.Load(tt.env, "")
			if err != nil {
				t.Fatal(err)
			}
			if c.DynamicHostPortRange != tt.want {
				t.Errorf("range %v, want %v", c.DynamicHostPortRange, tt.want)
			}
			if (tt.warn == "") != (len(c.Warnings) == 0) || (tt.warn != "" && !strings.Contains(c.Warnings[0], tt.warn)) {
				t.Errorf("warnings %q, want %q", c.Warnings, tt.warn)
			}
		})
	}
}

// TestDocsListEveryVariable keeps docs/configuration.md in step with the
// variable table.
func TestDocsListEveryVariable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(variableNames(), envConfigFile, envAWSRegion) {
		if !strings.Contains(string(doc), "| `"+name+"` |") {
			t.Errorf("docs/configuration.md has no table row for %s", name)
		}
	}
}

func variableNames() []string {
	var names []string
	for _, v := range variables {
		names = append(names, v.name)
	}
	return names
}

func TestLoadReadsTheNamedFileAndTheHostsPortRange(t *testing.T) {
	file := writeConfig(t, "ECS_CLUSTER=host-test\n")
	c, err := Load([]string{"ECS_CONFIG_FILE=" + file}, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Cluster != "host-test" || c.ConfigFile != file {
		t.Errorf("cluster %q from %q", c.Cluster, c.ConfigFile)
	}
	if r := c.DynamicHostPortRange; r.Start < 1 || r.End < r.Start {
		t.Errorf("dynamic port range %v", r)
	}
}

// The AWS SDK reads AWS_EC2_METADATA_DISABLED and its kin from the process
// environment only: the file's values are handed over for export, unless
// the environment already sets them.
func TestFileAWSVariablesAreHandedToTheSDK(t *testing.T) {
	c := mustLoad(t, []string{"AWS_PROFILE=from-env"}, "AWS_EC2_METADATA_DISABLED=true\nAWS_PROFILE=from-file\nECS_CLUSTER=x\n")
	if got := c.SDKEnv["AWS_EC2_METADATA_DISABLED"]; got != "true" {
		t.Errorf("SDKEnv[AWS_EC2_METADATA_DISABLED] = %q, want true", got)
	}
	if got, ok := c.SDKEnv["AWS_PROFILE"]; ok {
		t.Errorf("SDKEnv[AWS_PROFILE] = %q: the environment's value must stay", got)
	}
	if _, ok := c.SDKEnv["ECS_CLUSTER"]; ok {
		t.Error("ECS_CLUSTER handed to the SDK")
	}
}
