package tcs

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func task(i, containers, nameLen int) TaskMetric {
	t := TaskMetric{TaskArn: fmt.Sprintf("arn:aws:ecs:us-west-2:1:task/c/%032d", i), TaskDefinitionFamily: "web", TaskDefinitionVersion: "3"}
	for j := range containers {
		t.ContainerMetrics = append(t.ContainerMetrics, ContainerMetric{ContainerName: fmt.Sprintf("%s%d", strings.Repeat("c", nameLen), j),
			CPUStatsSet: &StatsSet{Min: 1, Max: 2, SampleCount: 20, Sum: 30}, MemoryStatsSet: &StatsSet{Min: 10, Max: 12, SampleCount: 20, Sum: 220}})
	}
	return t
}

func TestMetricsRequestsKeepTCSLimits(t *testing.T) {
	h := Head{Cluster: "default", ContainerInstance: "arn:ci", MessageID: "m1", Time: time.UnixMilli(1746802078031)}
	big := 210 << 10 // a 210 KiB container name: five tasks of it exceed 1 MiB
	for _, tc := range []struct {
		name      string
		tasks     []TaskMetric
		wantSizes []int
	}{
		{"idle", nil, []int{0}},
		{"one", []TaskMetric{task(0, 1, 3)}, []int{1}},
		{"ten", tasksOf(10, 1, 3), []int{10}},
		{"twenty-five", tasksOf(25, 2, 3), []int{10, 10, 5}},
		{"by size", tasksOf(7, 1, big), []int{4, 3}},
	} {
		reqs, tooBig := MetricsRequests(h, tc.tasks)
		if len(tooBig) != 0 {
			t.Errorf("%s: %d tasks left out", tc.name, len(tooBig))
		}
		var sizes []int
		for i, r := range reqs {
			sizes = append(sizes, len(r.TaskMetrics))
			b, _ := Encode(r)
			if len(b) > MaxMessageBytes-signatureAllowance {
				t.Errorf("%s: request %d is %d bytes", tc.name, i, len(b))
			}
			if r.Metadata.MessageID != "m1" || r.Metadata.Fin != (i == len(reqs)-1) || r.Metadata.Idle != (len(tc.tasks) == 0) {
				t.Errorf("%s: request %d metadata %+v; want messageId m1, fin only on the last, idle only with no task", tc.name, i, *r.Metadata)
			}
		}
		if fmt.Sprint(sizes) != fmt.Sprint(tc.wantSizes) {
			t.Errorf("%s: requests of %v tasks; want %v", tc.name, sizes, tc.wantSizes)
		}
	}
	huge := task(99, 1, MaxMessageBytes)
	reqs, tooBig := MetricsRequests(h, []TaskMetric{task(0, 1, 3), huge, task(1, 1, 3)})
	if len(tooBig) != 1 || tooBig[0].TaskArn != huge.TaskArn || len(reqs) != 1 || len(reqs[0].TaskMetrics) != 2 {
		t.Errorf("a task over 1 MiB alone: left out %d, requests %d; want it alone left out and the other two sent", len(tooBig), len(reqs))
	}
}

func tasksOf(n, containers, nameLen int) []TaskMetric {
	var ts []TaskMetric
	for i := range n {
		ts = append(ts, task(i, containers, nameLen))
	}
	return ts
}

func TestHealthRequestsAreTenTasksEachFinOnTheLast(t *testing.T) {
	h := Head{Cluster: "default", ContainerInstance: "arn:ci", MessageID: "h1"}
	if reqs := HealthRequests(h, nil); len(reqs) != 0 {
		t.Errorf("no task with a health check: %d requests; want none", len(reqs))
	}
	var tasks []TaskHealth
	for i := range 21 {
		tasks = append(tasks, TaskHealth{TaskArn: fmt.Sprint(i), Containers: []ContainerHealth{{ContainerName: "app", HealthStatus: HealthHealthy}}})
	}
	reqs := HealthRequests(h, tasks)
	if len(reqs) != 3 || len(reqs[0].Tasks) != 10 || len(reqs[2].Tasks) != 1 || reqs[1].Metadata.Fin || !reqs[2].Metadata.Fin {
		t.Errorf("21 tasks: %d requests; want 10+10+1 with fin on the last", len(reqs))
	}
}

func TestTimestampsAreNumbersOfSecondsWithMilliseconds(t *testing.T) {
	b, err := json.Marshal(Timestamp(time.UnixMilli(1746802078031)))
	if err != nil || string(b) != "1746802078.031" {
		t.Errorf("marshal = %s, %v; want 1746802078.031", b, err)
	}
	var ts Timestamp
	if err := json.Unmarshal([]byte("1746802078.031"), &ts); err != nil || ts.Time().UnixMilli() != 1746802078031 {
		t.Errorf("unmarshal = %v, %v", ts.Time(), err)
	}
	if err := json.Unmarshal([]byte(`"2025-05-09T00:00:00Z"`), &ts); err == nil || !strings.Contains(err.Error(), `"\"2025-05-09T00:00:00Z\""`) {
		t.Errorf("a string timestamp: %v; want an error naming it", err)
	}
}
