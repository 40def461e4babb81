package fakeecs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/go-logr/logr/testr"
	"github.com/gorilla/websocket"

	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
	"github.com/ecs-agent/ecs-agent/internal/ecsws"
	"github.com/ecs-agent/ecs-agent/internal/tcs"
)

// oneTask publishes one task's metrics and health, and the status, every cycle.
type oneTask struct{}

func (oneTask) Cycle(context.Context, bool) tcs.Cycle {
	return tcs.Cycle{
		Metrics: []tcs.TaskMetric{{TaskArn: "arn:t1", TaskDefinitionFamily: "web", TaskDefinitionVersion: "1", ContainerMetrics: []tcs.ContainerMetric{{
			ContainerName: "app", CPUStatsSet: &tcs.StatsSet{Min: 1, Max: 3, SampleCount: 2, Sum: 4}, MemoryStatsSet: &tcs.StatsSet{Min: 8, Max: 8, SampleCount: 2, Sum: 16}}}}},
		Health:   []tcs.TaskHealth{{TaskArn: "arn:t1", Containers: []tcs.ContainerHealth{{ContainerName: "app", HealthStatus: tcs.HealthHealthy}}}},
		Statuses: []tcs.InstanceStatus{{Type: tcs.InstanceStatusAgent, Status: tcs.InstanceOK}}, StatusDue: true,
	}
}

func telemetryURL(t *testing.T, c *ecs.Client, inst string) string {
	out, err := c.DiscoverPollEndpoint(context.Background(), &ecs.DiscoverPollEndpointInput{Cluster: aws.String("default"), ContainerInstance: aws.String(inst)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TelemetryEndpoint)
}

func TestTCSTakesSignedCyclesAndRecordsThem(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)
	inst, _ := setup(t, c)
	sess := &tcs.Session{
		Discover:    func(context.Context) (string, error) { return telemetryURL(t, c, inst), nil },
		Params:      tcs.Params{Cluster: "default", ContainerInstance: inst, AgentVersion: "1.0.0"},
		Credentials: credentials.NewStaticCredentialsProvider(fakeecs.DefaultAccessKeyID, fakeecs.DefaultSecretAccessKey, ""),
		Region:      "us-west-2", Source: oneTask{}, Log: testr.New(t), Timing: tcs.Timing{Publish: 50 * time.Millisecond},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sess.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, "three metrics, health and status requests taken", func() bool {
		n := map[string]int{}
		for _, r := range srv.TCS().Records {
			n[fmt.Sprint(r.Metrics != nil, r.Health != nil, r.Status != nil)]++
		}
		return n["true false false"] >= 3 && n["false true false"] >= 3 && n["false false true"] >= 3
	})
	st := srv.TCS()
	if len(st.Violations) > 0 || st.Sessions[inst] != 1 || len(st.Open) != 1 {
		t.Errorf("violations %v, sessions %v, open %v; want none, one, one", st.Violations, st.Sessions, st.Open)
	}
	if m := st.Records[0].Metrics; m == nil || m.Metadata.ContainerInstance != inst || !m.Metadata.Fin || m.TaskMetrics[0].ContainerMetrics[0].CPUStatsSet.Sum != 4 {
		t.Errorf("first record %+v; want the cycle's one metrics request, fin", st.Records[0])
	}
}

// TestTCSRefusesWhatTCSWouldRefuse sends frames by hand on a signed session: each broken rule
// is a violation and gets an exception, not an ack.
func TestTCSRefusesWhatTCSWouldRefuse(t *testing.T) {
	srv := startFake(t)
	c := newClient(t, srv, 1)
	inst, _ := setup(t, c)
	creds := credentials.NewStaticCredentialsProvider(fakeecs.DefaultAccessKeyID, fakeecs.DefaultSecretAccessKey, "")
	wsURL, err := tcs.URL(telemetryURL(t, c, inst), tcs.Params{Cluster: "default", ContainerInstance: inst, AgentVersion: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(wsURL, nil); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("unsigned upgrade: %v; want 403 AccessDeniedException", err)
	}
	h, _ := ecsws.SignedHeaders(context.Background(), wsURL, creds, "us-west-2", time.Now())
	ws, _, err := websocket.DefaultDialer.Dial(wsURL, h)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	meta := func(id string, fin bool) *tcs.MetricsMetadata {
		return &tcs.MetricsMetadata{Cluster: "default", ContainerInstance: inst, MessageID: id, Fin: fin}
	}
	var eleven []tcs.TaskMetric
	for i := range 11 {
		eleven = append(eleven, tcs.TaskMetric{TaskArn: fmt.Sprint(i)})
	}
	badSet := []tcs.TaskMetric{{TaskArn: "t", ContainerMetrics: []tcs.ContainerMetric{{ContainerName: "a", CPUStatsSet: &tcs.StatsSet{Min: 5, Max: 1, SampleCount: 1, Sum: 3}}}}}
	for _, tc := range []struct {
		msg  any
		want string
	}{
		{&tcs.PublishMetricsRequest{Metadata: meta("m1", true), TaskMetrics: eleven}, "11 tasks"},
		{&tcs.PublishMetricsRequest{Metadata: meta("m2", true), TaskMetrics: badSet}, "incoherent cpu set"},
		{&tcs.PublishMetricsRequest{Metadata: meta("m3", false)}, ""},
		{&tcs.PublishMetricsRequest{Metadata: meta("m4", true)}, "cycle m3 never sent fin"},
		{&tcs.PublishMetricsRequest{Metadata: meta("m3", true)}, ""},
		{&tcs.PublishMetricsRequest{Metadata: meta("m3", true)}, "after its cycle's fin"},
		{&tcs.PublishMetricsRequest{Metadata: &tcs.MetricsMetadata{ContainerInstance: inst, MessageID: "m5", Idle: true}}, "idle with tasks or without fin"},
	} {
		frame, _ := tcs.Encode(tc.msg)
		signed, _ := ecsws.SignFrame(context.Background(), wsURL, frame, creds, "us-west-2", time.Now())
		if err := ws.WriteMessage(websocket.TextMessage, signed); err != nil {
			t.Fatal(err)
		}
		_, reply, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := tcs.Decode(reply)
		ex, refused := got.(*ecsws.Exception)
		if (tc.want == "") == refused || (refused && !strings.Contains(ex.Message, tc.want)) {
			t.Errorf("%+v: answered %s; want %q", tc.msg, reply, tc.want)
		}
	}
	// A string timestamp is not TCS's number.
	frame := []byte(`{"type":"PublishHealthRequest","message":{"metadata":{"containerInstance":"` + inst + `","messageId":"h"},"tasks":[],"timestamp":"2025-01-01T00:00:00Z"}}`)
	signed, _ := ecsws.SignFrame(context.Background(), wsURL, frame, creds, "us-west-2", time.Now())
	_ = ws.WriteMessage(websocket.TextMessage, signed)
	if _, reply, _ := ws.ReadMessage(); !strings.Contains(string(reply), tcs.ExceptionBadRequest) {
		t.Errorf("a string timestamp: answered %s; want BadRequestException", reply)
	}
	// An unsigned frame ends the session.
	_ = ws.WriteMessage(websocket.TextMessage, frame)
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			break
		}
	}
	v := srv.TCS().Violations
	if len(v) != 7 || !strings.Contains(v[len(v)-1], "frame signature") {
		t.Errorf("violations %q; want the 5 refused requests, the timestamp and the unsigned frame", v)
	}
}
