// Package version holds the agent's version, set at build time with
// -ldflags "-X github.com/ecs-agent/ecs-agent/internal/version.Version=…".
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is the agent's version; "dev" for an unreleased build.
var Version = "dev"

// Agent is how the agent names itself where the ECS agent gives its version
// (introspection /v1/metadata "Version").
func Agent() string { return "ecs-agent " + Version }

// Details is what `ecs-agent version` prints and a support bundle carries:
// the version, the commit it was built from (when the build recorded it),
// the Go release and the platform, one "key: value" per line.
func Details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", Agent())
	if info, ok := debug.ReadBuildInfo(); ok {
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		if rev := settings["vcs.revision"]; rev != "" {
			if settings["vcs.modified"] == "true" {
				rev += " (modified)"
			}
			fmt.Fprintf(&b, "commit: %s\n", rev)
		}
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(&b, "commit time: %s\n", t)
		}
	}
	fmt.Fprintf(&b, "go: %s\nplatform: %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return b.String()
}
