package cli

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

func TestGetContainerInstanceShowsTheACSSession(t *testing.T) {
	dir, s := filledStore(t)
	seq := int64(42)
	ci := &apiv1.ContainerInstance{
		Spec: apiv1.ContainerInstanceSpec{Cluster: "prod"},
		Status: apiv1.ContainerInstanceStatus{Arn: "arn:aws:ecs:us-west-2:1:container-instance/prod/abc", Status: "ACTIVE",
			ACS: &apiv1.ACSSession{Connected: true, Endpoint: "https://ecs-a-1.us-west-2.amazonaws.com/",
				ConnectedSince: &metav1.MicroTime{Time: time.Now().Add(-3 * time.Minute)},
				LastMessageAt:  &metav1.MicroTime{Time: time.Now().Add(-20 * time.Second)}, LastMessageType: "HeartbeatMessage",
				Reconnects: 2, LastError: "no message from ACS within the silence timeout", SeqNum: &seq}},
	}
	ci.Name = apiv1.ContainerInstanceName
	if err := s.Create(context.Background(), ci); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := run(t, dir, silentPort(t), "get", "containerinstance")
	if err != nil {
		t.Fatalf("get containerinstance: %v (%s)", err, errOut)
	}
	checkOutput(t, out, []string{"CLUSTER", "ACS", "CONNECTED-SINCE", "LAST-MESSAGE", "RECONNECTS", "prod", "ACTIVE", "connected", "3m",
		"HeartbeatMessage 20s ago", " 2"}, []string{"ENDPOINT", "silence"})
	out, errOut, err = run(t, dir, silentPort(t), "get", "ci", "-o", "wide")
	if err != nil {
		t.Fatalf("get ci -o wide: %v (%s)", err, errOut)
	}
	checkOutput(t, out, []string{"ENDPOINT", "LAST-ERROR", "https://ecs-a-1.us-west-2.amazonaws.com/", "silence timeout", "42", ci.Status.Arn}, nil)
}
