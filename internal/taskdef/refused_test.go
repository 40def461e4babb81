package taskdef

import (
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
)

// refusedCase is one entry of testdata/refused.json: a definition that
// sets a field this agent refuses, and the error that must name it. The
// control plane's tests run the same file through ECS's types, so a static
// file and an ECS task are refused alike.
type refusedCase struct {
	Field      string          `json:"field"`
	Definition json.RawMessage `json:"definition"`
	Error      string          `json:"error"`
}

// readRefusedCases reads the cases, leaving out those that do not apply on
// this host.
func readRefusedCases(t *testing.T, path string) []refusedCase {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []refusedCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := cases[:0]
	for _, c := range cases {
		if c.Field == "runtimePlatform.cpuArchitecture" && runtime.GOARCH == "arm64" {
			continue // the case asks for ARM64, which this host is
		}
		out = append(out, c)
	}
	return out
}

func TestRefusedFieldsAreNamedWithTheReason(t *testing.T) {
	for _, tc := range readRefusedCases(t, "testdata/refused.json") {
		t.Run(tc.Field, func(t *testing.T) {
			_, err := Parse("/etc/ecs/tasks.d/refused.json", tc.Definition)
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("Parse error = %v, want an InvalidError naming %s", err, tc.Field)
			}
			if !strings.Contains(err.Error(), tc.Error) {
				t.Errorf("error %q\n  does not contain %q", err, tc.Error)
			}
		})
	}
}
