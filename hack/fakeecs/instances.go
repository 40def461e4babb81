package fakeecs

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// instanceARN resolves a container instance reference (ARN or bare id) in a cluster to its ARN;
// callers hold f.mu.
func (f *Fake) instanceARN(c *types.Cluster, ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref
	}
	return f.arn("container-instance/" + deref(c.ClusterName) + "/" + ref)
}

func (f *Fake) instance(c *types.Cluster, ref string) (*types.ContainerInstance, bool) {
	ci, ok := f.instances[f.instanceARN(c, ref)]
	return ci, ok
}

// inCluster reports whether an ARN of the long format (…/<cluster>/<id>) belongs to the cluster.
func inCluster(c *types.Cluster, arn string) bool {
	return strings.Contains(arn, "/"+deref(c.ClusterName)+"/")
}

// describeInstance is a container instance with the task counters ECS computes; callers hold f.mu.
func (f *Fake) describeInstance(ci *types.ContainerInstance) types.ContainerInstance {
	out := clone(*ci)
	out.RunningTasksCount, out.PendingTasksCount = f.taskCounts(func(t *types.Task) bool {
		return deref(t.ContainerInstanceArn) == deref(ci.ContainerInstanceArn)
	})
	return out
}

// taskCounts counts, among the tasks match accepts, the RUNNING ones and the pending ones (neither
// RUNNING nor STOPPED), as ECS counts them for a cluster or a container instance; callers hold f.mu.
func (f *Fake) taskCounts(match func(*types.Task) bool) (running, pending int32) {
	for _, t := range f.tasks {
		if !match(t) {
			continue
		}
		switch deref(t.LastStatus) {
		case "RUNNING":
			running++
		case "STOPPED":
		default:
			pending++
		}
	}
	return running, pending
}

func actRegisterContainerInstance(f *Fake, in *ecs.RegisterContainerInstanceInput) (any, error) {
	c, err := f.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	now := f.now().UTC()
	var ci *types.ContainerInstance
	if arn := deref(in.ContainerInstanceArn); arn != "" {
		existing, ok := f.instance(c, arn)
		if !ok || !inCluster(c, deref(existing.ContainerInstanceArn)) {
			return nil, errInvalid("Container instance %s was not found in cluster %s.", arn, deref(c.ClusterName))
		}
		if deref(existing.Status) == "INACTIVE" {
			return nil, errClient("Container instance %s is INACTIVE and cannot be registered again.", arn)
		}
		ci = existing
	} else {
		arn := f.arn("container-instance/" + deref(c.ClusterName) + "/" + newID())
		ci = &types.ContainerInstance{
			ContainerInstanceArn: ptr(arn),
			Status:               ptr("ACTIVE"),
			RegisteredAt:         ptr(now),
			Tags:                 in.Tags,
		}
		f.instances[arn] = ci
		f.instSeq = append(f.instSeq, arn)
	}
	var doc struct {
		InstanceID string `json:"instanceId"`
	}
	if d := deref(in.InstanceIdentityDocument); d != "" {
		if err := json.Unmarshal([]byte(d), &doc); err != nil {
			return nil, errInvalid("instanceIdentityDocument is not a JSON document: %v", err)
		}
	}
	if doc.InstanceID != "" {
		ci.Ec2InstanceId = ptr(doc.InstanceID)
	}
	ci.RegisteredResources = in.TotalResources
	ci.RemainingResources = in.TotalResources
	ci.VersionInfo = in.VersionInfo
	ci.Attributes = in.Attributes
	// agentConnected is the ACS session's to set, never registration's.
	ci.Version++
	out := f.describeInstance(ci)
	return &ecs.RegisterContainerInstanceOutput{ContainerInstance: &out}, nil
}

func actDeregisterContainerInstance(f *Fake, in *ecs.DeregisterContainerInstanceInput) (any, error) {
	c, err := f.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	ci, ok := f.instance(c, deref(in.ContainerInstance))
	if !ok {
		return nil, errInvalid("Container instance %s not found.", deref(in.ContainerInstance))
	}
	if !deref(in.Force) {
		for _, t := range f.tasks {
			if deref(t.ContainerInstanceArn) == deref(ci.ContainerInstanceArn) && deref(t.LastStatus) != "STOPPED" {
				return nil, errInvalid("Found running tasks on the instance; use force to deregister it.")
			}
		}
	}
	ci.Status = ptr("INACTIVE")
	if c := f.acs.sessions[deref(ci.ContainerInstanceArn)]; c != nil {
		// ACS drops a deregistered instance's session; its next upgrade is refused as inactive.
		// The instance is disconnected here, with the drop, not when the session's reader
		// notices: an agent can see the close, be refused and exit before that.
		delete(f.acs.sessions, deref(ci.ContainerInstanceArn))
		ci.AgentConnected = false
		_ = c.ws.Close()
	}
	ci.Version++
	out := f.describeInstance(ci)
	return &ecs.DeregisterContainerInstanceOutput{ContainerInstance: &out}, nil
}

func actListContainerInstances(f *Fake, in *ecs.ListContainerInstancesInput) (any, error) {
	c, err := f.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	var arns []string
	for _, arn := range f.instSeq {
		ci := f.instances[arn]
		if !inCluster(c, arn) {
			continue
		}
		st := deref(ci.Status)
		if in.Status != "" && st != string(in.Status) {
			continue
		}
		if in.Status == "" && st == "INACTIVE" {
			continue
		}
		arns = append(arns, arn)
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ecs.ListContainerInstancesOutput{ContainerInstanceArns: page, NextToken: next}, nil
}

func actDescribeContainerInstances(f *Fake, in *ecs.DescribeContainerInstancesInput) (any, error) {
	if len(in.ContainerInstances) == 0 {
		return nil, errInvalid("containerInstances can not be empty.")
	}
	c, err := f.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	out := &ecs.DescribeContainerInstancesOutput{ContainerInstances: []types.ContainerInstance{}, Failures: []types.Failure{}}
	for _, ref := range in.ContainerInstances {
		ci, ok := f.instance(c, ref)
		if !ok {
			out.Failures = append(out.Failures, types.Failure{Arn: ptr(f.instanceARN(c, ref)), Reason: ptr("MISSING")})
			continue
		}
		d := f.describeInstance(ci)
		if !slices.Contains(in.Include, types.ContainerInstanceFieldTags) {
			d.Tags = nil // as ECS: tags only when asked for
		}
		out.ContainerInstances = append(out.ContainerInstances, d)
	}
	return out, nil
}

func actUpdateContainerInstancesState(f *Fake, in *ecs.UpdateContainerInstancesStateInput) (any, error) {
	if in.Status != types.ContainerInstanceStatusActive && in.Status != types.ContainerInstanceStatusDraining {
		return nil, errInvalid("status must be ACTIVE or DRAINING, got %q", in.Status)
	}
	c, err := f.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	out := &ecs.UpdateContainerInstancesStateOutput{ContainerInstances: []types.ContainerInstance{}, Failures: []types.Failure{}}
	for _, ref := range in.ContainerInstances {
		ci, ok := f.instance(c, ref)
		if !ok || deref(ci.Status) == "INACTIVE" {
			out.Failures = append(out.Failures, types.Failure{Arn: ptr(f.instanceARN(c, ref)), Reason: ptr("MISSING")})
			continue
		}
		if deref(ci.Status) != string(in.Status) {
			ci.Status = ptr(string(in.Status))
			ci.Version++
		}
		d := f.describeInstance(ci)
		d.Tags = nil // ECS's answer here carries no tags
		out.ContainerInstances = append(out.ContainerInstances, d)
	}
	return out, nil
}

// SetInstanceStatus sets a container instance's status (ACTIVE, DRAINING) without an API call.
func (f *Fake) SetInstanceStatus(arn string, status types.ContainerInstanceStatus) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	ci, ok := f.instances[arn]
	if ok {
		ci.Status = ptr(string(status))
		ci.Version++
	}
	return ok
}

// ContainerInstances returns copies of every registered container instance, in registration order.
func (f *Fake) ContainerInstances() []types.ContainerInstance {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]types.ContainerInstance, 0, len(f.instSeq))
	for _, arn := range f.instSeq {
		out = append(out, f.describeInstance(f.instances[arn]))
	}
	return out
}
