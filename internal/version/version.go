// Package version holds the agent's version, set at build time with
// -ldflags "-X github.com/ecs-agent/ecs-agent/internal/version.Version=…".
package version

// Version is the agent's version; "dev" for an unreleased build.
var Version = "dev"

// Agent is how the agent names itself where the ECS agent gives its version
// (introspection /v1/metadata "Version").
func Agent() string { return "ecs-agent " + Version }
