package fakeecs

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// launch is what RunTask and StartTask say alike about the tasks they create.
type launch struct {
	overrides        *types.TaskOverride
	startedBy, group *string
	tags             []types.Tag
}

// newTask creates a PENDING task of td on a container instance; callers hold f.mu.
func (f *Fake) newTask(c *types.Cluster, td *taskDef, ci *types.ContainerInstance, l launch) *types.Task {
	id := newID()
	cluster := deref(c.ClusterName)
	arn := f.arn("task/" + cluster + "/" + id)
	now := f.now().UTC()
	overrides := &types.TaskOverride{}
	if l.overrides != nil {
		overrides = ptr(clone(*l.overrides))
	}
	if overrides.ContainerOverrides == nil {
		overrides.ContainerOverrides = []types.ContainerOverride{}
	}
	group := l.group
	if group == nil {
		group = ptr("family:" + deref(td.def.Family))
	}
	t := &types.Task{
		TaskArn:              ptr(arn),
		ClusterArn:           c.ClusterArn,
		TaskDefinitionArn:    td.def.TaskDefinitionArn,
		ContainerInstanceArn: ci.ContainerInstanceArn,
		Overrides:            overrides,
		LastStatus:           ptr("PENDING"),
		DesiredStatus:        ptr("RUNNING"),
		CreatedAt:            ptr(now),
		StartedBy:            l.startedBy,
		Group:                group,
		LaunchType:           types.LaunchTypeEc2,
		Cpu:                  td.def.Cpu,
		Memory:               td.def.Memory,
		Version:              1,
		Tags:                 l.tags,
	}
	for _, cd := range td.def.ContainerDefinitions {
		ct := types.Container{
			ContainerArn: ptr(f.arn("container/" + cluster + "/" + id + "/" + newUUID())),
			TaskArn:      ptr(arn),
			Name:         cd.Name,
			Image:        cd.Image,
			LastStatus:   ptr("PENDING"),
		}
		if cd.Cpu != 0 {
			ct.Cpu = ptr(fmt.Sprint(cd.Cpu))
		}
		if cd.Memory != nil {
			ct.Memory = ptr(fmt.Sprint(*cd.Memory))
		}
		if cd.MemoryReservation != nil {
			ct.MemoryReservation = ptr(fmt.Sprint(*cd.MemoryReservation))
		}
		t.Containers = append(t.Containers, ct)
	}
	f.tasks[arn] = t
	f.taskSeq = append(f.taskSeq, arn)
	f.pushTask(t)
	return t
}

// placeable lists the ACTIVE container instances of a cluster in registration order; callers hold f.mu.
func (f *Fake) placeable(c *types.Cluster) []*types.ContainerInstance {
	var out []*types.ContainerInstance
	for _, arn := range f.instSeq {
		if ci := f.instances[arn]; inCluster(c, arn) && deref(ci.Status) == "ACTIVE" {
			out = append(out, ci)
		}
	}
	return out
}

func actRunTask(f *Fake, in *ecs.RunTaskInput) (any, error) {
	count := int(deref(in.Count))
	if count == 0 {
		count = 1
	}
	if count < 1 || count > 10 {
		return nil, errInvalid("count must be between 1 and 10, got %d", count)
	}
	c, err := f.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	td, err := f.taskDef(deref(in.TaskDefinition))
	if err != nil {
		return nil, err
	}
	if td.def.Status != types.TaskDefinitionStatusActive {
		return nil, errClient("TaskDefinition is inactive")
	}
	cands := f.placeable(c)
	if len(cands) == 0 {
		return nil, errInvalid("No Container Instances were found in your cluster.")
	}
	out := &ecs.RunTaskOutput{Tasks: []types.Task{}, Failures: []types.Failure{}}
	l := launch{overrides: in.Overrides, startedBy: in.StartedBy, group: in.Group, tags: in.Tags}
	name := deref(c.ClusterName)
	for range count {
		ci := cands[f.rr[name]%len(cands)]
		f.rr[name]++
		out.Tasks = append(out.Tasks, clone(*f.newTask(c, td, ci, l)))
	}
	return out, nil
}

func actStartTask(f *Fake, in *ecs.StartTaskInput) (any, error) {
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > 10 {
		return nil, errInvalid("containerInstances must name 1 to 10 instances, got %d", len(in.ContainerInstances))
	}
	c, err := f.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	td, err := f.taskDef(deref(in.TaskDefinition))
	if err != nil {
		return nil, err
	}
	out := &ecs.StartTaskOutput{Tasks: []types.Task{}, Failures: []types.Failure{}}
	l := launch{overrides: in.Overrides, startedBy: in.StartedBy, group: in.Group, tags: in.Tags}
	for _, ref := range in.ContainerInstances {
		ci, ok := f.instance(c, ref)
		if !ok {
			out.Failures = append(out.Failures, types.Failure{Arn: ptr(f.instanceARN(c, ref)), Reason: ptr("MISSING")})
			continue
		}
		if st := deref(ci.Status); st != "ACTIVE" {
			out.Failures = append(out.Failures, types.Failure{Arn: ci.ContainerInstanceArn, Reason: ptr(st)})
			continue
		}
		out.Tasks = append(out.Tasks, clone(*f.newTask(c, td, ci, l)))
	}
	return out, nil
}

// taskARN resolves a task reference (ARN or bare id) in a cluster to its ARN.
func (f *Fake) taskARN(c *types.Cluster, ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref
	}
	return f.arn("task/" + deref(c.ClusterName) + "/" + ref)
}

// clusterTask resolves the cluster and task parameters of a call to an existing task; callers
// hold f.mu.
func (f *Fake) clusterTask(cluster, task *string) (*types.Task, error) {
	c, err := f.cluster(cluster)
	if err != nil {
		return nil, err
	}
	t, ok := f.tasks[f.taskARN(c, deref(task))]
	if !ok {
		return nil, errInvalid("The referenced task was not found.")
	}
	return t, nil
}

func actStopTask(f *Fake, in *ecs.StopTaskInput) (any, error) {
	t, err := f.clusterTask(in.Cluster, in.Task)
	if err != nil {
		return nil, err
	}
	f.stopTask(t, deref(in.Reason), types.TaskStopCodeUserInitiated)
	return &ecs.StopTaskOutput{Task: ptr(clone(*t))}, nil
}

// stopTask sets a task's desired status to STOPPED once; callers hold f.mu.
func (f *Fake) stopTask(t *types.Task, reason string, code types.TaskStopCode) {
	if deref(t.DesiredStatus) == "STOPPED" {
		return
	}
	t.DesiredStatus = ptr("STOPPED")
	if reason == "" {
		reason = "Task stopped by user"
	}
	t.StoppedReason = ptr(reason)
	t.StopCode = code
	t.StoppingAt = ptr(f.now().UTC())
	t.Version++
	f.pushTask(t)
}

// StopTask stops a task by ARN directly (as the StopTask call does).
func (f *Fake) StopTask(taskARN, reason string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[taskARN]
	if ok {
		f.stopTask(t, reason, types.TaskStopCodeUserInitiated)
	}
	return ok
}

// UnlistTask leaves the task out of the next n ListTasks answers that would
// hold it, as ECS's eventually consistent ListTasks can; DescribeTasks still
// knows it.
func (f *Fake) UnlistTask(arn string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unlisted == nil {
		f.unlisted = map[string]int{}
	}
	f.unlisted[arn] = n
}

func actListTasks(f *Fake, in *ecs.ListTasksInput) (any, error) {
	desired := string(in.DesiredStatus)
	if desired == "" {
		desired = "RUNNING" // ECS lists only RUNNING tasks unless asked otherwise
	}
	c, err := f.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	instARN := ""
	if ref := deref(in.ContainerInstance); ref != "" {
		instARN = f.instanceARN(c, ref)
	}
	var arns []string
	for _, arn := range f.taskSeq {
		t := f.tasks[arn]
		switch {
		case deref(t.ClusterArn) != deref(c.ClusterArn),
			deref(t.DesiredStatus) != desired,
			instARN != "" && deref(t.ContainerInstanceArn) != instARN,
			in.Family != nil && !strings.Contains(deref(t.TaskDefinitionArn), ":task-definition/"+*in.Family+":"),
			in.StartedBy != nil && deref(t.StartedBy) != *in.StartedBy,
			in.LaunchType != "" && t.LaunchType != in.LaunchType:
			continue
		}
		if f.unlisted[arn] > 0 {
			f.unlisted[arn]--
			continue
		}
		arns = append(arns, arn)
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ecs.ListTasksOutput{TaskArns: page, NextToken: next}, nil
}

func actDescribeTasks(f *Fake, in *ecs.DescribeTasksInput) (any, error) {
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return nil, errInvalid("tasks must name 1 to 100 tasks, got %d", len(in.Tasks))
	}
	c, err := f.cluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	out := &ecs.DescribeTasksOutput{Tasks: []types.Task{}, Failures: []types.Failure{}}
	withTags := false
	for _, inc := range in.Include {
		withTags = withTags || inc == types.TaskFieldTags
	}
	for _, ref := range in.Tasks {
		arn := f.taskARN(c, ref)
		t, ok := f.tasks[arn]
		if !ok {
			out.Failures = append(out.Failures, types.Failure{Arn: ptr(arn), Reason: ptr("MISSING")})
			continue
		}
		d := clone(*t)
		if !withTags {
			d.Tags = nil
		}
		out.Tasks = append(out.Tasks, d)
	}
	return out, nil
}

// Tasks returns copies of every task the fake knows, in creation order.
func (f *Fake) Tasks() []types.Task {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]types.Task, 0, len(f.taskSeq))
	for _, arn := range f.taskSeq {
		out = append(out, clone(*f.tasks[arn]))
	}
	return out
}

// Task returns a copy of one task by ARN.
func (f *Fake) Task(arn string) (types.Task, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[arn]
	if !ok {
		return types.Task{}, false
	}
	return clone(*t), true
}
