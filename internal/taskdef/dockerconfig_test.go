package taskdef

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// TestDockerConfigBecomesTheTaskDefinitionFields: an ACS container's
// dockerConfig, in Docker Engine API JSON, becomes the task definition
// fields it stands for, which Parse then checks and applies like any
// definition's.
func TestDockerConfigBecomesTheTaskDefinitionFields(t *testing.T) {
	dc := DockerConfig{
		Config: `{"Hostname":"web","User":"1000","WorkingDir":"/srv","Labels":{"team":"x"},"Tty":true,"OpenStdin":true,
			"Env":["A=1","B=x=y"],"AttachStdin":false,"ExposedPorts":{"80/tcp":{}},
			"Healthcheck":{"Test":["CMD","/check"],"Interval":10000000000,"Timeout":2000000000,"Retries":3}}`,
		HostConfig: `{"Privileged":false,"ReadonlyRootfs":true,"LogConfig":{"Type":"json-file","Config":{"max-size":"1m"}},
			"Ulimits":[{"Name":"nofile","Soft":1024,"Hard":2048}],"Dns":["10.0.0.2"],"DnsSearch":["example.com"],
			"ExtraHosts":["db:10.0.0.3"],"SecurityOpt":["no-new-privileges","label=type:spc_t"],
			"Sysctls":{"net.core.somaxconn":"1024"},"CapAdd":["CAP_SYS_PTRACE"],"CapDrop":["NET_RAW"],"Init":true,
			"ShmSize":67108864,"Tmpfs":{"/run":"size=8m,noexec"},"MemoryReservation":33554432,
			"Devices":[{"PathOnHost":"/dev/fuse","PathInContainer":"/dev/fuse","CgroupPermissions":"rw"}]}`,
	}
	fields, err := dc.Fields()
	if err != nil {
		t.Fatal(err)
	}
	container := map[string]any{"name": "web", "image": "nginx", "memory": 128}
	for k, v := range fields {
		container[k] = v
	}
	doc, _ := json.Marshal(map[string]any{"family": "acs", "containerDefinitions": []any{container}})
	def, err := Parse("acs task", doc)
	if err != nil {
		t.Fatalf("Parse of the fields dockerConfig stands for: %v\n%s", err, doc)
	}
	c := def.Spec.Containers[0]
	want := apiv1.ContainerSpec{
		Name: "web", Image: "nginx", Essential: true, Memory: ptr.To[int64](128), MemoryReservation: ptr.To[int64](32),
		Hostname: "web", User: "1000", WorkingDirectory: "/srv", DockerLabels: map[string]string{"team": "x"},
		PseudoTerminal: true, Interactive: true, ReadonlyRootFilesystem: true,
		Environment:      []apiv1.KeyValue{{Name: "A", Value: "1"}, {Name: "B", Value: "x=y"}},
		HealthCheck:      &apiv1.HealthCheck{Command: []string{"CMD", "/check"}, Interval: 10, Timeout: 2, Retries: 3},
		LogConfiguration: &apiv1.LogConfiguration{LogDriver: "json-file", Options: map[string]string{"max-size": "1m"}},
		Ulimits:          []apiv1.Ulimit{{Name: "nofile", SoftLimit: 1024, HardLimit: 2048}},
		DNSServers:       []string{"10.0.0.2"}, DNSSearchDomains: []string{"example.com"},
		ExtraHosts:            []apiv1.HostEntry{{Hostname: "db", IPAddress: "10.0.0.3"}},
		DockerSecurityOptions: []string{"no-new-privileges", "label:type:spc_t"},
		SystemControls:        []apiv1.SystemControl{{Namespace: "net.core.somaxconn", Value: "1024"}},
		LinuxParameters: &apiv1.LinuxParameters{
			Capabilities:       &apiv1.KernelCapabilities{Add: []string{"SYS_PTRACE"}, Drop: []string{"NET_RAW"}},
			Devices:            []apiv1.Device{{HostPath: "/dev/fuse", ContainerPath: "/dev/fuse", Permissions: []string{"read", "write"}}},
			InitProcessEnabled: true, SharedMemorySize: ptr.To[int64](64),
			Tmpfs: []apiv1.Tmpfs{{ContainerPath: "/run", Size: 8, MountOptions: []string{"noexec"}}},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("container:\n got %+v\nwant %+v", c, want)
	}
}

// TestDockerConfigSettingsWithoutAFieldAreRefused: a Docker setting no task
// definition field stands for, or a value no field can hold, is named with
// the reason; so are values the definition's own rules refuse, once parsed.
func TestDockerConfigSettingsWithoutAFieldAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		dc   DockerConfig
		want []string
	}{
		{"unknown settings", DockerConfig{HostConfig: `{"OomKillDisable":true,"CgroupParent":"/mine"}`},
			[]string{"dockerConfig.hostConfig.CgroupParent: is not a setting this agent applies", "dockerConfig.hostConfig.OomKillDisable: is not a setting"}},
		{"swap as Docker counts it", DockerConfig{HostConfig: `{"MemorySwap":268435456}`},
			[]string{"dockerConfig.hostConfig.MemorySwap: 268435456: counts memory and swap together; the swap is linuxParameters.maxSwap"}},
		{"a task-level setting", DockerConfig{HostConfig: `{"PidMode":"host"}`}, []string{`dockerConfig.hostConfig.PidMode: "host": is the task's pidMode`}},
		{"not whole MiB", DockerConfig{HostConfig: `{"ShmSize":1000}`}, []string{"ShmSize: 1000: is not a whole number of MiB"}},
		{"not whole seconds", DockerConfig{Config: `{"Healthcheck":{"Test":["CMD","x"],"Interval":1500000000}}`}, []string{"interval: 1.5s is not a whole number of seconds"}},
		{"not JSON", DockerConfig{Config: `{"Hostname":`}, []string{"dockerConfig.config: is not a JSON object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.dc.Fields()
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("Fields() error %v, want an InvalidError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n  does not contain %q", err, w)
				}
			}
		})
	}
}
