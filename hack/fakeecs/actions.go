package fakeecs

import (
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// actions are the ECS API operations the fake serves, by X-Amz-Target action name.
var actions = map[string]action{
	"CreateCluster":                 actCreateCluster,
	"DescribeClusters":              actDescribeClusters,
	"ListClusters":                  actListClusters,
	"RegisterTaskDefinition":        actRegisterTaskDefinition,
	"DescribeTaskDefinition":        actDescribeTaskDefinition,
	"DeregisterTaskDefinition":      actDeregisterTaskDefinition,
	"ListTaskDefinitions":           actListTaskDefinitions,
	"RegisterContainerInstance":     actRegisterContainerInstance,
	"DeregisterContainerInstance":   actDeregisterContainerInstance,
	"ListContainerInstances":        actListContainerInstances,
	"DescribeContainerInstances":    actDescribeContainerInstances,
	"UpdateContainerInstancesState": actUpdateContainerInstancesState,
	"RunTask":                       actRunTask,
	"StartTask":                     actStartTask,
	"StopTask":                      actStopTask,
	"ListTasks":                     actListTasks,
	"DescribeTasks":                 actDescribeTasks,
	"SubmitTaskStateChange":         actSubmitTaskStateChange,
	"SubmitContainerStateChange":    actSubmitContainerStateChange,
	"DiscoverPollEndpoint":          actDiscoverPollEndpoint,
}

// Actions lists the action names the fake implements.
func Actions() []string {
	out := make([]string, 0, len(actions))
	for name := range actions {
		out = append(out, name)
	}
	return out
}

// DiscoverPollEndpoint is what the ECS agent asks before opening its ACS websocket. This agent
// polls instead, but the call is cheap to answer and lets the real ECS agent get past start-up.
func actDiscoverPollEndpoint(f *Fake, body []byte) (any, error) {
	var in ecs.DiscoverPollEndpointInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.cluster(in.Cluster); err != nil {
		return nil, err
	}
	ep := "https://ecs-a-1." + f.region + ".amazonaws.com/"
	return &ecs.DiscoverPollEndpointOutput{Endpoint: ptr(ep), TelemetryEndpoint: ptr("https://ecs-t-1." + f.region + ".amazonaws.com/")}, nil
}
