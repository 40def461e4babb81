package controlplane

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestTaskSpecKeepsEmptyValuesInsideListsAndMaps(t *testing.T) {
	// An empty argument or label value is a value, not a missing member: it
	// reaches the spec as "" (it once became JSON null, which taskdef
	// rejects), while an empty member list is left out as unset.
	def := &types.TaskDefinition{
		TaskDefinitionArn: aws.String("arn:aws:ecs:us-west-2:1:task-definition/web:1"),
		Family:            aws.String("web"), Revision: 1, RegisteredAt: aws.Time(time.Unix(1700000000, 0)),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("busybox"), Memory: aws.Int32(64),
			Command:      []string{"sh", "-c", ""},
			DockerLabels: map[string]string{"blank": ""},
			PortMappings: []types.PortMapping{},
			Hostname:     aws.String(""),
		}},
	}
	task := types.Task{TaskArn: aws.String("arn:aws:ecs:us-west-2:1:task/default/abc"),
		TaskDefinitionArn: def.TaskDefinitionArn, DesiredStatus: aws.String("RUNNING")}
	spec := taskSpec(task, def, "default")
	if spec.DefinitionError != "" {
		t.Fatalf("DefinitionError = %q", spec.DefinitionError)
	}
	c := spec.Containers[0]
	if want := []string{"sh", "-c", ""}; !reflect.DeepEqual(c.Command, want) {
		t.Errorf("command = %q, want %q", c.Command, want)
	}
	if want := map[string]string{"blank": ""}; !reflect.DeepEqual(c.DockerLabels, want) {
		t.Errorf("dockerLabels = %q, want %q", c.DockerLabels, want)
	}
	if c.PortMappings != nil {
		t.Errorf("portMappings = %v, want none", c.PortMappings)
	}
}
