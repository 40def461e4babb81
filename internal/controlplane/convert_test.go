package controlplane

import (
	"encoding/json"
	"os"
	"reflect"
	"runtime"
	"strings"
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

// TestRefusedFieldsStopTheECSTaskWithTheReason runs the definitions of
// internal/taskdef/testdata/refused.json, which the static source's tests
// run too, through ECS's own types: an ECS task that sets a field this agent
// refuses gets the same error as a static file, as its DefinitionError (the
// task is then reported STOPPED with it).
func TestRefusedFieldsStopTheECSTaskWithTheReason(t *testing.T) {
	data, err := os.ReadFile("../taskdef/testdata/refused.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Field      string          `json:"field"`
		Definition json.RawMessage `json:"definition"`
		Error      string          `json:"error"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		if tc.Field == "runtimePlatform.cpuArchitecture" && runtime.GOARCH == "arm64" {
			continue // the case asks for ARM64, which this host is
		}
		t.Run(tc.Field, func(t *testing.T) {
			// The SDK's member names are the JSON's, case aside.
			var def types.TaskDefinition
			if err := json.Unmarshal(tc.Definition, &def); err != nil {
				t.Fatalf("definition as types.TaskDefinition: %v", err)
			}
			def.TaskDefinitionArn = aws.String("arn:aws:ecs:us-west-2:1:task-definition/refused:1")
			def.Revision = 1
			task := types.Task{TaskArn: aws.String("arn:aws:ecs:us-west-2:1:task/default/abc"),
				TaskDefinitionArn: def.TaskDefinitionArn, DesiredStatus: aws.String("RUNNING")}
			spec := taskSpec(task, &def, "default")
			if !strings.Contains(spec.DefinitionError, tc.Error) {
				t.Errorf("DefinitionError %q\n  does not contain %q", spec.DefinitionError, tc.Error)
			}
		})
	}
}
