package fakeecs

import (
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// actions are the ECS API operations the fake serves, by X-Amz-Target action name.
var actions = map[string]action{
	"CreateCluster":                 op(actCreateCluster),
	"DescribeClusters":              op(actDescribeClusters),
	"ListClusters":                  op(actListClusters),
	"RegisterTaskDefinition":        op(actRegisterTaskDefinition),
	"DescribeTaskDefinition":        op(actDescribeTaskDefinition),
	"DeregisterTaskDefinition":      op(actDeregisterTaskDefinition),
	"ListTaskDefinitions":           op(actListTaskDefinitions),
	"RegisterContainerInstance":     op(actRegisterContainerInstance),
	"DeregisterContainerInstance":   op(actDeregisterContainerInstance),
	"ListContainerInstances":        op(actListContainerInstances),
	"DescribeContainerInstances":    op(actDescribeContainerInstances),
	"UpdateContainerInstancesState": op(actUpdateContainerInstancesState),
	"RunTask":                       op(actRunTask),
	"StartTask":                     op(actStartTask),
	"StopTask":                      op(actStopTask),
	"ListTasks":                     op(actListTasks),
	"DescribeTasks":                 op(actDescribeTasks),
	"SubmitTaskStateChange":         op(actSubmitTaskStateChange),
	"SubmitContainerStateChange":    op(actSubmitContainerStateChange),
	"DiscoverPollEndpoint":          op(actDiscoverPollEndpoint),
}

// DiscoverPollEndpoint is what the agent asks before opening its ACS websocket: the fake names
// itself for ACS and TCS (or, with NoACS, paths that refuse).
func actDiscoverPollEndpoint(f *Fake, in *ecs.DiscoverPollEndpointInput) (any, error) {
	if _, err := f.cluster(in.Cluster); err != nil {
		return nil, err
	}
	ep := f.discoverEndpoint()
	return &ecs.DiscoverPollEndpointOutput{Endpoint: ptr(ep), TelemetryEndpoint: ptr(f.telemetryEndpoint())}, nil
}
