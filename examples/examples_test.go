// Package examples holds the static task definitions that `make run` starts
// (examples/tasks). Its test keeps them valid as the parser evolves.
package examples

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ecs-agent/ecs-agent/internal/taskdef"
)

// exampleImage is what hack/build-test-images.sh tags for the examples: a
// local image, so that no example needs a registry.
const exampleImage = "ecs-agent-example/app:latest"

func TestExampleTaskDefinitionsAreValidAndLocal(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("tasks", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example task definitions in tasks/ (err %v)", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			def, err := taskdef.Parse(file, data)
			if err != nil {
				t.Fatalf("example does not parse: %v", err)
			}
			for _, c := range def.Spec.Containers {
				if c.Image != exampleImage {
					t.Errorf("container %s uses image %q; examples must use the local %s", c.Name, c.Image, exampleImage)
				}
			}
		})
	}
}
