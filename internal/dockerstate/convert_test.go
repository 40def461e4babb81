package dockerstate

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
)

// inspectSample is trimmed from a Docker 20.10 (API 1.41) inspect answer.
const inspectSample = `{
 "Id": "d348bd54aa724d632e2554f1f0ce5e500d58ec596051ee86d29fa66b4e605c30",
 "Created": "2026-11-23T09:39:55.779816259Z",
 "Name": "/ecs-web-3-app-0a1b2c",
 "Image": "sha256:6f5ef1427d37c0dc278e8820c70e7bca40dbca0545db68c17f12a1b0b7c41366",
 "State": {
  "Status": "exited", "Running": false, "OOMKilled": true, "Dead": false, "Pid": 0,
  "ExitCode": 137, "Error": "",
  "StartedAt": "2026-11-23T09:39:57.784760735Z",
  "FinishedAt": "2026-11-23T09:41:00Z",
  "Health": {"Status": "unhealthy", "FailingStreak": 3, "Log": [
   {"Start": "2026-11-23T09:39:58.7Z", "End": "2026-11-23T09:39:58.8Z", "ExitCode": 1, "Output": "first"},
   {"Start": "2026-11-23T09:39:59.7Z", "End": "2026-11-23T09:39:59.8Z", "ExitCode": 1, "Output": "last"}
  ]}
 },
 "Config": {"Image": "ecs-agent-test/app:latest", "StopSignal": "SIGQUIT",
  "Labels": {"com.amazonaws.ecs.task-arn": "arn:aws:ecs:local:000000000000:task/c/abc"}},
 "NetworkSettings": {"Ports": {
  "8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "49160"}, {"HostIp": "::", "HostPort": "49160"}],
  "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
  "9090/tcp": null
 }}
}`

func TestFromInspectReadsEverythingTheControllersUse(t *testing.T) {
	var r container.InspectResponse
	if err := json.Unmarshal([]byte(inspectSample), &r); err != nil {
		t.Fatalf("decode sample: %v", err)
	}
	got := fromInspect(&r)
	want := Container{
		ID:         "d348bd54aa724d632e2554f1f0ce5e500d58ec596051ee86d29fa66b4e605c30",
		Name:       "ecs-web-3-app-0a1b2c",
		Image:      "ecs-agent-test/app:latest",
		ImageID:    "sha256:6f5ef1427d37c0dc278e8820c70e7bca40dbca0545db68c17f12a1b0b7c41366",
		Labels:     map[string]string{LabelTaskARN: "arn:aws:ecs:local:000000000000:task/c/abc"},
		State:      StateExited,
		ExitCode:   137,
		OOMKilled:  true,
		CreatedAt:  time.Date(2026, 11, 23, 9, 39, 55, 779816259, time.UTC),
		StartedAt:  time.Date(2026, 11, 23, 9, 39, 57, 784760735, time.UTC),
		FinishedAt: time.Date(2026, 11, 23, 9, 41, 0, 0, time.UTC),
		Health:     "unhealthy", HealthOutput: "last",
		StopSignal: "SIGQUIT",
		Ports: []PortBinding{
			{ContainerPort: 53, HostPort: 5353, Protocol: "udp", HostIP: "127.0.0.1"},
			{ContainerPort: 8080, HostPort: 49160, Protocol: "tcp", HostIP: "0.0.0.0"},
			{ContainerPort: 8080, HostPort: 49160, Protocol: "tcp", HostIP: "::"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fromInspect:\n got %+v\nwant %+v", got, want)
	}
}

func TestFromInspectLeavesTimesZeroForEventsThatHaveNotHappened(t *testing.T) {
	r := container.InspectResponse{
		State: &container.State{Status: "created", StartedAt: "0001-01-01T00:00:00Z", FinishedAt: ""},
	}
	got := fromInspect(&r)
	if !got.StartedAt.IsZero() || !got.FinishedAt.IsZero() {
		t.Errorf("times = %v, %v; want zero", got.StartedAt, got.FinishedAt)
	}
}
