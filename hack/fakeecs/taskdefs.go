package fakeecs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// RegisterTaskDefinition registers a task definition directly (as the call does) and returns it.
func (f *Fake) RegisterTaskDefinition(in *ecs.RegisterTaskDefinitionInput) types.TaskDefinition {
	f.mu.Lock()
	defer f.mu.Unlock()
	return clone(f.registerTaskDef(in).def)
}

func (f *Fake) registerTaskDef(in *ecs.RegisterTaskDefinitionInput) *taskDef {
	family := deref(in.Family)
	var td taskDef
	convert(in, &td.def) // the input and TaskDefinition share member names
	td.tags = in.Tags
	rev := int32(len(f.taskDefs[family]) + 1)
	td.def.Revision = rev
	td.def.TaskDefinitionArn = ptr(f.arn(fmt.Sprintf("task-definition/%s:%d", family, rev)))
	td.def.Status = types.TaskDefinitionStatusActive
	td.def.RegisteredAt = ptr(f.now().UTC())
	td.def.Compatibilities = []types.Compatibility{types.CompatibilityEc2}
	if len(f.taskDefs[family]) == 0 {
		f.families = append(f.families, family)
	}
	f.taskDefs[family] = append(f.taskDefs[family], &td)
	return &td
}

// taskDef resolves "family", "family:rev" or a task definition ARN; callers hold f.mu. A bare
// family means its latest ACTIVE revision, as in ECS.
func (f *Fake) taskDef(ref string) (*taskDef, error) {
	s := ref
	if strings.HasPrefix(s, "arn:") {
		i := strings.Index(s, ":task-definition/")
		if i < 0 {
			return nil, errInvalid("Invalid task definition ARN %q", ref)
		}
		s = s[i+len(":task-definition/"):]
	}
	family, revStr, hasRev := strings.Cut(s, ":")
	revs := f.taskDefs[family]
	if family == "" || len(revs) == 0 {
		return nil, errClient("Unable to describe task definition.")
	}
	if !hasRev {
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i].def.Status == types.TaskDefinitionStatusActive {
				return revs[i], nil
			}
		}
		return nil, errClient("Unable to describe task definition.")
	}
	rev, err := strconv.Atoi(revStr)
	if err != nil || rev < 1 || rev > len(revs) {
		return nil, errClient("Unable to describe task definition.")
	}
	return revs[rev-1], nil
}

func actRegisterTaskDefinition(f *Fake, in *ecs.RegisterTaskDefinitionInput) (any, error) {
	if deref(in.Family) == "" || strings.ContainsAny(deref(in.Family), ":/") {
		return nil, errClient("Family contains invalid characters or is empty: %q", deref(in.Family))
	}
	if len(in.ContainerDefinitions) == 0 {
		return nil, errClient("Container list cannot be empty.")
	}
	for _, c := range in.ContainerDefinitions {
		if deref(c.Name) == "" || deref(c.Image) == "" {
			return nil, errClient("Container.name and Container.image should not be null or empty.")
		}
	}
	td := f.registerTaskDef(in)
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: ptr(clone(td.def)), Tags: td.tags}, nil
}

func actDescribeTaskDefinition(f *Fake, in *ecs.DescribeTaskDefinitionInput) (any, error) {
	td, err := f.taskDef(deref(in.TaskDefinition))
	if err != nil {
		return nil, err
	}
	out := &ecs.DescribeTaskDefinitionOutput{TaskDefinition: ptr(clone(td.def))}
	for _, inc := range in.Include {
		if inc == types.TaskDefinitionFieldTags {
			out.Tags = td.tags
		}
	}
	return out, nil
}

func actDeregisterTaskDefinition(f *Fake, in *ecs.DeregisterTaskDefinitionInput) (any, error) {
	td, err := f.taskDef(deref(in.TaskDefinition))
	if err != nil {
		return nil, err
	}
	if !strings.Contains(deref(in.TaskDefinition), ":") {
		return nil, errClient("Revision must be specified to deregister a task definition.")
	}
	td.def.Status = types.TaskDefinitionStatusInactive
	td.def.DeregisteredAt = ptr(f.now().UTC())
	return &ecs.DeregisterTaskDefinitionOutput{TaskDefinition: ptr(clone(td.def))}, nil
}

func actListTaskDefinitions(f *Fake, in *ecs.ListTaskDefinitionsInput) (any, error) {
	status := in.Status
	if status == "" {
		status = types.TaskDefinitionStatusActive
	}
	var arns []string
	for _, fam := range f.families {
		if p := deref(in.FamilyPrefix); p != "" && !strings.HasPrefix(fam, p) {
			continue
		}
		for _, td := range f.taskDefs[fam] {
			if td.def.Status == status {
				arns = append(arns, deref(td.def.TaskDefinitionArn))
			}
		}
	}
	page, next, err := paginate(arns, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ecs.ListTaskDefinitionsOutput{TaskDefinitionArns: page, NextToken: next}, nil
}
