package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/ecswire"
	"github.com/ecs-agent/ecs-agent/internal/taskdef"
)

// taskSpec turns an ECS task and its definition into the agent's TaskSpec.
//
// The definition goes through internal/taskdef, the same rules static task
// files follow, so there is one source of truth for what the agent can run:
// it is written back as the JSON register-task-definition takes (through
// internal/ecswire, the ECS wire codec) and parsed. A
// definition the agent cannot run becomes Spec.DefinitionError: the task is
// reported STOPPED with it, and nothing crashes.
func taskSpec(task types.Task, def *types.TaskDefinition, cluster string) apiv1.TaskSpec {
	arn := aws.ToString(task.TaskArn)
	spec := apiv1.TaskSpec{}
	if def != nil {
		data, err := registerJSON(def)
		if err == nil {
			var parsed *taskdef.Definition
			parsed, err = taskdef.Parse(aws.ToString(def.TaskDefinitionArn), data)
			if err == nil {
				spec = parsed.Spec
			}
		}
		if err != nil {
			spec.DefinitionError = err.Error()
		}
		spec.Family = aws.ToString(def.Family)
		spec.Revision = int64(def.Revision)
	} else {
		spec.DefinitionError = "task definition " + aws.ToString(task.TaskDefinitionArn) + " could not be described"
	}
	spec.Arn = arn
	spec.Cluster = cluster
	spec.Source = apiv1.SourceECS
	spec.SourceRef = aws.ToString(task.TaskDefinitionArn)
	spec.DesiredStatus = desiredStatus(aws.ToString(task.DesiredStatus))
	if spec.DefinitionError == "" {
		if err := applyOverrides(&spec, task.Overrides); err != nil {
			spec.DefinitionError = err.Error()
		}
	}
	return spec
}

func desiredStatus(s string) apiv1.TaskStatusName {
	if s == string(apiv1.StatusRunning) {
		return apiv1.StatusRunning
	}
	return apiv1.StatusStopped
}

// applyOverrides applies RunTask/StartTask overrides as ECS does: a
// container override's command replaces the definition's, its environment
// is merged over the definition's by name, cpu and memory replace.
func applyOverrides(spec *apiv1.TaskSpec, o *types.TaskOverride) error {
	if o == nil {
		return nil
	}
	if v := aws.ToString(o.TaskRoleArn); v != "" {
		spec.TaskRoleArn = v
	}
	if v := aws.ToString(o.ExecutionRoleArn); v != "" {
		spec.ExecutionRoleArn = v
	}
	if v := aws.ToString(o.Cpu); v != "" {
		spec.CPU = v
	}
	if v := aws.ToString(o.Memory); v != "" {
		spec.Memory = v
	}
	for _, co := range o.ContainerOverrides {
		c := spec.ContainerSpecFor(aws.ToString(co.Name))
		if c == nil {
			return fmt.Errorf("containerOverrides: no container named %q in the task definition", aws.ToString(co.Name))
		}
		if co.Command != nil {
			c.Command = co.Command
		}
		for _, kv := range co.Environment {
			setEnv(c, aws.ToString(kv.Name), aws.ToString(kv.Value))
		}
		if co.Cpu != nil {
			c.CPU = int64(*co.Cpu)
		}
		if co.Memory != nil {
			c.Memory = aws.Int64(int64(*co.Memory))
		}
		if co.MemoryReservation != nil {
			c.MemoryReservation = aws.Int64(int64(*co.MemoryReservation))
		}
	}
	return nil
}

func setEnv(c *apiv1.ContainerSpec, name, value string) {
	for i := range c.Environment {
		if c.Environment[i].Name == name {
			c.Environment[i].Value = value
			return
		}
	}
	c.Environment = append(c.Environment, apiv1.KeyValue{Name: name, Value: value})
}

// registerJSON writes the definition as register-task-definition JSON.
// Members holding an empty string, list or map are left out as if unset, so
// that taskdef judges only the fields the definition gives a value.
func registerJSON(def *types.TaskDefinition) ([]byte, error) {
	v, err := ecswire.Encoder{OmitEmpty: true}.Encode(def)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("task definition is not an object")
	}
	for k := range m {
		if taskdef.OutputOnly(k) {
			delete(m, k)
		}
	}
	return json.Marshal(m)
}
