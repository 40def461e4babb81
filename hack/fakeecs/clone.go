package fakeecs

import (
	"fmt"

	"github.com/ecs-agent/ecs-agent/internal/ecswire"
)

// The fake keeps its state in the SDK's own types (types.Task, types.ContainerInstance, …) so that
// every field the real client knows round-trips, and speaks awsJson1_1 through internal/ecswire,
// the codec the agent itself uses.

// convert copies the members two SDK shapes share (e.g. RegisterTaskDefinitionInput into
// TaskDefinition), and deep-copies when both are the same type.
func convert(from, into any) {
	b, err := ecswire.Marshal(from)
	if err != nil {
		panic(fmt.Sprintf("fakeecs: encode %T: %v", from, err))
	}
	if err := ecswire.Unmarshal(b, into); err != nil {
		panic(fmt.Sprintf("fakeecs: decode %T into %T: %v", from, into, err))
	}
}

// clone deep-copies an SDK value through the wire form.
func clone[T any](v T) T {
	var out T
	convert(v, &out)
	return out
}
