package harness

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestGoToolchainEnvFollowsGoModUnlessTheEnvironmentSetsOne(t *testing.T) {
	root := t.TempDir()
	write := func(mod string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte(mod), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("module example.com/m\n\ngo 1.26.8\n\ntoolchain go1.27.3\n\nrequire example.com/x v1.0.0\n")

	t.Setenv("GOTOOLCHAIN", "")
	if got, want := goToolchainEnv(root), []string{"GOTOOLCHAIN=go1.27.3"}; !slices.Equal(got, want) {
		t.Errorf("no GOTOOLCHAIN in the environment: %q, want %q", got, want)
	}
	t.Setenv("GOTOOLCHAIN", "local")
	if got := goToolchainEnv(root); got != nil {
		t.Errorf("GOTOOLCHAIN=local in the environment: %q, want nothing (the environment wins)", got)
	}
	t.Setenv("GOTOOLCHAIN", "")
	write("module example.com/m\n\ngo 1.26.8\n")
	if got := goToolchainEnv(root); got != nil {
		t.Errorf("go.mod without a toolchain line: %q, want nothing", got)
	}
}
