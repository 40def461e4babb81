package cli

import (
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// containerInstanceColumns show the registration and, for an agent on ECS,
// its ACS session: whether it is connected (and so may be given tasks),
// since when, and how it has gone.
var containerInstanceColumns = []metav1.TableColumnDefinition{
	{Name: "Cluster", Type: "string"},
	{Name: "Status", Type: "string", Description: "ACTIVE, DRAINING, … as ECS says; OFFLINE without ECS"},
	{Name: "ACS", Type: "string", Description: "whether the ACS session is open"},
	{Name: "Connected-Since", Type: "string"},
	{Name: "Last-Message", Type: "string", Description: "type and age of the last ACS message"},
	{Name: "Reconnects", Type: "integer"},
	{Name: "ARN", Type: "string", Priority: 1},
	{Name: "Endpoint", Type: "string", Priority: 1},
	{Name: "Last-Error", Type: "string", Priority: 1},
	{Name: "Seq", Type: "string", Priority: 1, Description: "ACS sequence high-water mark"},
}

func containerInstanceRows(obj store.Object, now time.Time) []metav1.TableRow {
	ci := obj.(*apiv1.ContainerInstance)
	acs := ci.Status.ACS
	if acs == nil {
		acs = &apiv1.ACSSession{}
	}
	conn := "disconnected"
	switch {
	case ci.Status.ACS == nil:
		conn = none
	case acs.Connected:
		conn = "connected"
	}
	since := none
	if acs.Connected && acs.ConnectedSince != nil {
		since = ago(now, acs.ConnectedSince)
	}
	last := none
	if acs.LastMessageAt != nil {
		last = acs.LastMessageType + " " + ago(now, acs.LastMessageAt)
	}
	seq := none
	if acs.SeqNum != nil {
		seq = strconv.FormatInt(*acs.SeqNum, 10)
	}
	return []metav1.TableRow{row(ci,
		orNone(ci.Spec.Cluster), orNone(ci.Status.Status), conn, since, last, acs.Reconnects,
		orNone(ci.Status.Arn), orNone(acs.Endpoint), orNone(acs.LastError), seq,
	)}
}
