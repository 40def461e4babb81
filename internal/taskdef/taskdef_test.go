package taskdef

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// fullDefinition uses every field register-task-definition accepts that
// this agent applies, as a real file copied from ECS documentation and
// tools would; testdata/refused.json has the ones it refuses.
const fullDefinition = `{
  "family": "web-app_2",
  "taskRoleArn": "arn:aws:iam::123456789012:role/app",
  "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
  "networkMode": "bridge",
  "cpu": "1 vCPU",
  "memory": "1 GB",
  "pidMode": "task",
  "ipcMode": "none",
  "requiresCompatibilities": ["EC2", "EXTERNAL"],
  "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.os-type == linux"}],
  "tags": [{"key": "team", "value": "web"}],
  "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
  "enableFaultInjection": false,
  "volumes": [
    {"name": "data", "host": {"sourcePath": "/var/lib/app"}},
    {"name": "cache", "dockerVolumeConfiguration": {"scope": "shared", "autoprovision": true, "driver": "local", "driverOpts": {"type": "tmpfs"}, "labels": {"app": "web"}}},
    {"name": "scratch"}
  ],
  "containerDefinitions": [
    {
      "name": "web",
      "image": "ecs-agent-test/app:latest",
      "cpu": 256,
      "memory": 512,
      "memoryReservation": 128,
      "essential": true,
      "entryPoint": ["/testapp"],
      "command": ["serve", "8080"],
      "environment": [{"name": "MODE", "value": "prod"}],
      "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}],
      "portMappings": [
        {"containerPort": 8080, "hostPort": 0, "protocol": "tcp", "name": "http", "appProtocol": "http"},
        {"containerPort": 9090, "hostPort": 9090, "protocol": "udp"}
      ],
      "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": true}],
      "volumesFrom": [{"sourceContainer": "init", "readOnly": false}],
      "dependsOn": [{"containerName": "init", "condition": "SUCCESS"}, {"containerName": "sidecar", "condition": "HEALTHY"}],
      "startTimeout": 60,
      "stopTimeout": 10,
      "hostname": "web",
      "user": "1000:1000",
      "workingDirectory": "/",
      "privileged": false,
      "readonlyRootFilesystem": true,
      "dockerLabels": {"com.example.app": "web"},
      "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}],
      "logConfiguration": {"logDriver": "json-file", "options": {"max-size": "10m"}},
      "healthCheck": {"command": ["CMD", "/testapp", "check"], "interval": 10},
      "restartPolicy": {"enabled": true, "ignoredExitCodes": [0], "restartAttemptPeriod": 60},
      "versionConsistency": "disabled",
      "linuxParameters": {
        "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}, "initProcessEnabled": true,
        "devices": [{"hostPath": "/dev/fuse", "permissions": ["read", "write"]}],
        "tmpfs": [{"containerPath": "/tmp", "size": 64, "mountOptions": ["rw", "mode=1777"]}],
        "maxSwap": 256
      },
      "dnsServers": ["10.0.0.2"],
      "dnsSearchDomains": ["example.com"],
      "extraHosts": [{"hostname": "db", "ipAddress": "10.0.0.3"}],
      "dockerSecurityOptions": ["no-new-privileges", "label:type:container_t"],
      "systemControls": [{"namespace": "net.core.somaxconn", "value": "1024"}, {"namespace": "kernel.shmmax", "value": "65536"}],
      "links": ["sidecar:side"],
      "disableNetworking": false,
      "interactive": true,
      "pseudoTerminal": true
    },
    {
      "name": "init",
      "image": "ecs-agent-test/app:latest",
      "essential": false,
      "command": ["exit", "0"],
      "memoryReservation": 16
    },
    {
      "name": "sidecar",
      "image": "ecs-agent-test/app:latest",
      "essential": false,
      "command": ["healthy-after", "1s"],
      "healthCheck": {"command": ["CMD-SHELL", "/testapp check"]}
    }
  ]
}`

func TestParseFullDefinition(t *testing.T) {
	def, err := Parse("web.json", []byte(fullDefinition))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	s := def.Spec
	if s.Family != "web-app_2" || s.NetworkMode != "bridge" || s.CPU != "1024" || s.Memory != "1024" {
		t.Errorf("task fields: family %q mode %q cpu %q memory %q", s.Family, s.NetworkMode, s.CPU, s.Memory)
	}
	if s.TaskRoleArn == "" || s.ExecutionRoleArn == "" {
		t.Errorf("roles lost: %+v", s)
	}
	if len(s.Containers) != 3 || len(s.Volumes) != 3 {
		t.Fatalf("got %d containers, %d volumes", len(s.Containers), len(s.Volumes))
	}
	web := s.Containers[0]
	wantPorts := []apiv1.PortMapping{{ContainerPort: 8080, Protocol: "tcp"}, {ContainerPort: 9090, HostPort: 9090, Protocol: "udp"}}
	if !reflect.DeepEqual(web.PortMappings, wantPorts) {
		t.Errorf("ports = %+v, want %+v", web.PortMappings, wantPorts)
	}
	if *web.Memory != 512 || *web.MemoryReservation != 128 || web.CPU != 256 || !web.Essential || !web.ReadonlyRootFilesystem {
		t.Errorf("web resources/flags wrong: %+v", web)
	}
	wantHC := &apiv1.HealthCheck{Command: []string{"CMD", "/testapp", "check"}, Interval: 10, Timeout: 5, Retries: 3}
	if !reflect.DeepEqual(web.HealthCheck, wantHC) {
		t.Errorf("health check = %+v, want ECS defaults filled in: %+v", web.HealthCheck, wantHC)
	}
	if web.RestartPolicy == nil || !web.RestartPolicy.Enabled || web.RestartPolicy.RestartAttemptPeriod != 60 {
		t.Errorf("restart policy = %+v", web.RestartPolicy)
	}
	if len(web.DependsOn) != 2 || web.DependsOn[1].Condition != "HEALTHY" {
		t.Errorf("dependsOn = %+v", web.DependsOn)
	}
	if !web.MountPoints[0].ReadOnly || web.VolumesFrom[0].SourceContainer != "init" || web.Ulimits[0].HardLimit != 4096 {
		t.Errorf("mounts/ulimits wrong: %+v %+v %+v", web.MountPoints, web.VolumesFrom, web.Ulimits)
	}
	if s.Containers[1].Essential || s.Containers[2].Essential {
		t.Error("essential: false was not kept")
	}
	if dv := s.Volumes[1].DockerVolumeConfiguration; dv == nil || dv.Scope != "shared" || !dv.Autoprovision {
		t.Errorf("docker volume = %+v", dv)
	}
	if s.Volumes[2].Host != nil || s.Volumes[2].DockerVolumeConfiguration != nil {
		t.Errorf("bare volume = %+v", s.Volumes[2])
	}
	if s.PidMode != "task" || s.IpcMode != "none" {
		t.Errorf("pidMode %q ipcMode %q, want task and none", s.PidMode, s.IpcMode)
	}
	wantLinux := &apiv1.LinuxParameters{
		Capabilities:       &apiv1.KernelCapabilities{Add: []string{"NET_ADMIN"}, Drop: []string{"ALL"}},
		Devices:            []apiv1.Device{{HostPath: "/dev/fuse", Permissions: []string{"read", "write"}}},
		InitProcessEnabled: true,
		Tmpfs:              []apiv1.Tmpfs{{ContainerPath: "/tmp", Size: 64, MountOptions: []string{"rw", "mode=1777"}}},
		MaxSwap:            ptr.To[int64](256),
		Swappiness:         ptr.To[int64](60), // ECS's default with maxSwap
	}
	if !reflect.DeepEqual(web.LinuxParameters, wantLinux) {
		t.Errorf("linuxParameters = %+v, want %+v", web.LinuxParameters, wantLinux)
	}
	if !reflect.DeepEqual(web.ExtraHosts, []apiv1.HostEntry{{Hostname: "db", IPAddress: "10.0.0.3"}}) ||
		!reflect.DeepEqual(web.DNSServers, []string{"10.0.0.2"}) || !reflect.DeepEqual(web.DNSSearchDomains, []string{"example.com"}) {
		t.Errorf("name resolution: hosts %+v dns %q search %q", web.ExtraHosts, web.DNSServers, web.DNSSearchDomains)
	}
	if len(web.SystemControls) != 2 || web.SystemControls[1] != (apiv1.SystemControl{Namespace: "kernel.shmmax", Value: "65536"}) ||
		len(web.DockerSecurityOptions) != 2 || !reflect.DeepEqual(web.Links, []string{"sidecar:side"}) {
		t.Errorf("sysctls %+v, security options %q, links %q", web.SystemControls, web.DockerSecurityOptions, web.Links)
	}
	if !web.Interactive || !web.PseudoTerminal || web.DisableNetworking || !web.VersionConsistencyDisabled {
		t.Errorf("interactive %v, tty %v, networking disabled %v, version consistency disabled %v; want true, true, false, true",
			web.Interactive, web.PseudoTerminal, web.DisableNetworking, web.VersionConsistencyDisabled)
	}
}

func TestParseAppliesECSDefaults(t *testing.T) {
	def, err := Parse("min.json", []byte(`{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"containerPort":80}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c := def.Spec.Containers[0]
	if def.Spec.NetworkMode != "bridge" || !c.Essential || c.PortMappings[0].Protocol != "tcp" || c.PortMappings[0].HostPort != 0 {
		t.Errorf("defaults not applied: mode %q %+v", def.Spec.NetworkMode, c)
	}
	if c.VersionConsistencyDisabled {
		t.Error("versionConsistency is enabled unless the definition disables it")
	}
}

func TestParseHostModeHostPortIsContainerPort(t *testing.T) {
	def, err := Parse("h.json", []byte(`{"family":"f","networkMode":"host","memory":"512","containerDefinitions":[{"name":"a","image":"i","portMappings":[{"containerPort":80},{"containerPort":81,"hostPort":81}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, pm := range def.Spec.Containers[0].PortMappings {
		if pm.HostPort != pm.ContainerPort {
			t.Errorf("host mode mapping %+v: hostPort should equal containerPort", pm)
		}
	}
}

// base is a valid definition the error cases below are written against.
const base = `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64}%s]%s}`

func TestParseReportsEachRule(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []string // each must appear in the error text
	}{
		{"unknown top-level field", `{"family":"f","famliy":"g","containerDefinitions":[{"name":"a","image":"i","memory":64}]}`,
			[]string{`famliy: unknown field (did you mean "family"?)`}},
		{"duplicate keys", `{"family":"f","containerDefinitions":[{"name":"a","image":0,"image":"i","memory":64}],"family":"g"}`,
			[]string{`containerDefinitions[0].image: appears more than once`, `family: appears more than once`}},
		{"empty field name", `{"family":"f","":[],"containerDefinitions":[{"name":"a","image":"i","memory":64,"\u0007":1}]}`,
			[]string{`"": unknown field`, `containerDefinitions[0]."\a": unknown field`}},
		{"field name case matters", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","Memory":64}]}`,
			[]string{`containerDefinitions[0].Memory: unknown field (did you mean "memory"?)`}},
		{"unknown nested field", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"containerPort":80,"proto":"tcp"}]}]}`,
			[]string{`containerDefinitions[0].portMappings[0].proto: unknown field`}},
		{"describe output field", `{"family":"f","revision":3,"containerDefinitions":[{"name":"a","image":"i","memory":64}]}`,
			[]string{"revision: unknown field: it is an output of describe-task-definition"}},
		{"number as string", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":"64"}]}`,
			[]string{`containerDefinitions[0].memory: "64": must be a number`}},
		{"task cpu as number", `{"family":"f","cpu":256,"containerDefinitions":[{"name":"a","image":"i","memory":64}]}`,
			[]string{`cpu: 256: must be a string`}},
		{"fraction", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64.5}]}`,
			[]string{`containerDefinitions[0].memory: 64.5: must be a whole number`}},
		{"bool as string", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"essential":"yes"}]}`,
			[]string{`containerDefinitions[0].essential: "yes": must be true or false`}},
		{"shape errors all reported", `{"family":1,"containerDefinitions":[{"name":"a","image":"i","memory":64,"x":1,"y":2}]}`,
			[]string{"family: 1: must be a string", "containerDefinitions[0].x: unknown field", "containerDefinitions[0].y: unknown field"}},
		{"family required", `{"containerDefinitions":[{"name":"a","image":"i","memory":64}]}`, []string{"family: is required"}},
		{"family chars", `{"family":"my app","containerDefinitions":[{"name":"a","image":"i","memory":64}]}`,
			[]string{`family: "my app": must be 1 to 255 letters, digits, hyphens (-) and underscores (_)`}},
		{"family too long", `{"family":"` + strings.Repeat("f", 256) + `","containerDefinitions":[{"name":"a","image":"i","memory":64}]}`,
			[]string{"family: \"fff", "must be 1 to 255"}},
		{"no containers", `{"family":"f","containerDefinitions":[]}`, []string{"containerDefinitions: at least one container definition is required"}},
		{"container name and image required", `{"family":"f","containerDefinitions":[{"memory":64}]}`,
			[]string{"containerDefinitions[0].name: is required", "containerDefinitions[0].image: is required"}},
		{"duplicate container names", fmtBase(`,{"name":"a","image":"i","memory":64}`, ""),
			[]string{`containerDefinitions[1].name: "a": is used by containerDefinitions[0] too`}},
		{"no essential container", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"essential":false}]}`,
			[]string{"containerDefinitions: at least one container must be essential"}},
		{"dependsOn unknown container", fmtBase(`,{"name":"b","image":"i","memory":64,"dependsOn":[{"containerName":"zz","condition":"START"}]}`, ""),
			[]string{`containerDefinitions[1].dependsOn[0].containerName: "zz": must name another container of this task`}},
		{"dependsOn bad condition", fmtBase(`,{"name":"b","image":"i","memory":64,"dependsOn":[{"containerName":"a","condition":"RUNNING"}]}`, ""),
			[]string{`containerDefinitions[1].dependsOn[0].condition: "RUNNING": must be one of START, COMPLETE, SUCCESS, HEALTHY, CREATE`}},
		{"dependsOn HEALTHY without health check", fmtBase(`,{"name":"b","image":"i","memory":64,"dependsOn":[{"containerName":"a","condition":"HEALTHY"}]}`, ""),
			[]string{`containerDefinitions[1].dependsOn[0].condition: "HEALTHY": needs a healthCheck on container a`}},
		{"dependsOn SUCCESS on essential", fmtBase(`,{"name":"b","image":"i","memory":64,"dependsOn":[{"containerName":"a","condition":"SUCCESS"}]}`, ""),
			[]string{`"SUCCESS": cannot be used on essential container a`}},
		{"dependsOn self", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"dependsOn":[{"containerName":"a","condition":"START"}]}]}`,
			[]string{"a container cannot depend on itself"}},
		{"dependency cycle", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"dependsOn":[{"containerName":"b","condition":"START"}]},{"name":"b","image":"i","memory":64,"dependsOn":[{"containerName":"a","condition":"START"}]}]}`,
			[]string{"dependency cycle: a → b → a"}},
		{"mountPoint unknown volume", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"mountPoints":[{"sourceVolume":"nope","containerPath":"/d"}]}]}`,
			[]string{`containerDefinitions[0].mountPoints[0].sourceVolume: "nope": must name a volume declared in volumes`}},
		{"mountPoint relative path", `{"family":"f","volumes":[{"name":"v"}],"containerDefinitions":[{"name":"a","image":"i","memory":64,"mountPoints":[{"sourceVolume":"v","containerPath":"d"}]}]}`,
			[]string{`containerDefinitions[0].mountPoints[0].containerPath: "d": must be an absolute path`}},
		{"volumesFrom unknown container", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"volumesFrom":[{"sourceContainer":"b"}]}]}`,
			[]string{`containerDefinitions[0].volumesFrom[0].sourceContainer: "b": must name another container of this task`}},
		{"containerPort range", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"containerPort":0},{"containerPort":70000}]}]}`,
			[]string{"containerDefinitions[0].portMappings[0].containerPort: 0: must be between 1 and 65535", "portMappings[1].containerPort: 70000: must be between 1 and 65535"}},
		{"containerPort required", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"hostPort":80}]}]}`,
			[]string{"containerDefinitions[0].portMappings[0].containerPort: is required"}},
		{"hostPort range", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"containerPort":80,"hostPort":-1}]}]}`,
			[]string{"portMappings[0].hostPort: -1: must be between 0 and 65535"}},
		{"protocol", fmtBase(`,{"name":"b","image":"i","memory":64,"portMappings":[{"containerPort":80,"protocol":"sctp"}]}`, ""),
			[]string{`containerDefinitions[1].portMappings[0].protocol: "sctp": must be one of tcp, udp`}},
		{"host mode hostPort", `{"family":"f","networkMode":"host","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"containerPort":80,"hostPort":8080}]}]}`,
			[]string{"portMappings[0].hostPort: 8080: in network mode host must be 0 or equal to containerPort (80)"}},
		{"host port mapped twice", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"containerPort":80,"hostPort":8080}]},{"name":"b","image":"i","memory":64,"portMappings":[{"containerPort":81,"hostPort":8080}]}]}`,
			[]string{"containerDefinitions[1].portMappings[0].hostPort: 8080: host port 8080/tcp is already mapped by containerDefinitions[0].portMappings[0]"}},
		{"none mode port mappings", `{"family":"f","networkMode":"none","containerDefinitions":[{"name":"a","image":"i","memory":64,"portMappings":[{"containerPort":80}]}]}`,
			[]string{"containerDefinitions[0].portMappings: port mappings are not allowed in network mode none"}},
		{"awsvpc", `{"family":"f","networkMode":"awsvpc","containerDefinitions":[{"name":"a","image":"i","memory":64}]}`,
			[]string{`networkMode: "awsvpc": is not supported by this agent (bridge, host or none)`}},
		{"bad network mode", `{"family":"f","networkMode":"nat","containerDefinitions":[{"name":"a","image":"i","memory":64}]}`,
			[]string{`networkMode: "nat": must be bridge, host, awsvpc or none`}},
		{"memory positive", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":0}]}`,
			[]string{"containerDefinitions[0].memory: 0: must be at least 6 (MiB)"}},
		{"memoryReservation positive", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memoryReservation":-5}]}`,
			[]string{"containerDefinitions[0].memoryReservation: -5: must be positive (MiB)"}},
		{"memoryReservation above memory", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"memoryReservation":128}]}`,
			[]string{"containerDefinitions[0].memoryReservation: 128: must not exceed memory (64 MiB)"}},
		{"memory required on EC2", `{"family":"f","containerDefinitions":[{"name":"a","image":"i"}]}`,
			[]string{"containerDefinitions[0]: needs memory or memoryReservation, or the task needs memory"}},
		{"task memory format", `{"family":"f","memory":"lots","containerDefinitions":[{"name":"a","image":"i"}]}`,
			[]string{`memory: "lots": must be MiB ("512") or GB ("1 GB"), and positive`}},
		{"task cpu format", `{"family":"f","cpu":"2 cores","containerDefinitions":[{"name":"a","image":"i","memory":64}]}`,
			[]string{`cpu: "2 cores": must be CPU units`}},
		{"health check command", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"healthCheck":{"command":["curl","x"],"interval":1}}]}`,
			[]string{`containerDefinitions[0].healthCheck.command[0]: "curl": must be CMD or CMD-SHELL`, "healthCheck.interval: 1: must be between 5 and 300"}},
		{"ulimit", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"ulimits":[{"name":"files","softLimit":1,"hardLimit":1},{"name":"nofile","softLimit":10,"hardLimit":5}]}]}`,
			[]string{`ulimits[0].name: "files": must be one of core`, "ulimits[1].softLimit: 10: must not exceed hardLimit (5)"}},
		{"volume names", `{"family":"f","volumes":[{"name":"v"},{"name":"v"},{}],"containerDefinitions":[{"name":"a","image":"i","memory":64}]}`,
			[]string{`volumes[1].name: "v": is declared twice`, "volumes[2].name: is required"}},
		{"efs volume", `{"family":"f","volumes":[{"name":"v","efsVolumeConfiguration":{"fileSystemId":"fs-1"}}],"containerDefinitions":[{"name":"a","image":"i","memory":64}]}`,
			[]string{"volumes[0].efsVolumeConfiguration: EFS volumes are not supported by this agent"}},
		{"autoprovision needs shared", `{"family":"f","volumes":[{"name":"v","dockerVolumeConfiguration":{"scope":"task","autoprovision":true}}],"containerDefinitions":[{"name":"a","image":"i","memory":64}]}`,
			[]string{`volumes[0].dockerVolumeConfiguration.autoprovision: true: is only allowed with scope "shared"`}},
		{"restart period", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"restartPolicy":{"enabled":true,"restartAttemptPeriod":5}}]}`,
			[]string{"restartPolicy.restartAttemptPeriod: 5: must be between 60 and 1800 (seconds)"}},
		{"log driver", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"logConfiguration":{"logDriver":"stdout"}}]}`,
			[]string{`logConfiguration.logDriver: "stdout": must be one of json-file`}},
		{"environment files", `{"family":"f","containerDefinitions":[{"name":"a","image":"i","memory":64,"environmentFiles":[{"type":"s3","value":"arn:aws:s3:::b/x.env"}]}]}`,
			[]string{"containerDefinitions[0].environmentFiles: environment files (from S3) are not supported by this agent"}},
		{"top level not an object", `["family"]`, []string{`["family"]: must be an object`}},
		{"empty file", "  \n", []string{"the file is empty"}},
		{"many problems at once", `{"family":"","containerDefinitions":[{"name":"a","image":"","memory":64,"portMappings":[{"containerPort":80,"protocol":"x"}]}]}`,
			[]string{"family: is required", "containerDefinitions[0].image: is required", `containerDefinitions[0].portMappings[0].protocol: "x"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("/etc/ecs/tasks.d/t.json", []byte(tc.doc))
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("Parse error = %v (%T), want *InvalidError", err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "invalid task definition /etc/ecs/tasks.d/t.json: ") {
				t.Errorf("error does not name the file: %s", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\n  does not contain %q", msg, w)
				}
			}
		})
	}
}

func fmtBase(containers, fields string) string {
	return strings.Replace(strings.Replace(base, "%s", containers, 1), "%s", fields, 1)
}

func TestParseSyntaxErrorHasLineAndColumn(t *testing.T) {
	cases := []struct {
		name, doc string
		want      string
	}{
		{"bad token", "{\n  \"family\": \"f\",\n  \"containerDefinitions\": [x]\n}", "t.json:3:28:"},
		{"trailing comma", "{\n  \"family\": \"f\",\n}", "t.json:3:1:"},
		{"truncated", "{\n  \"family\": \"f\",\n  \"contai", "t.json:3:9: unexpected end of JSON input"},
		{"two objects", "{}\n{}", "t.json:2:1: unexpected data after the task definition object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.json", []byte(tc.doc))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error = %v (%T), want *SyntaxError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestFamilyOfBrokenFile(t *testing.T) {
	if got := Family([]byte(`{"family":"web","containerDefinitions":"nope"}`)); got != "web" {
		t.Errorf("Family = %q, want web", got)
	}
	if got := Family([]byte(`{"family":"no good"}`)); got != "" {
		t.Errorf("Family of an invalid name = %q, want empty", got)
	}
}
