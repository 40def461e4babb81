// Package layering checks the agent's package boundaries: which package may
// import what.
package layering

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/ecs-agent/ecs-agent/"

// mobyAllowed are the packages that may import the Docker client and API
// types: dockerstate (STYLE habit 3: the only package that talks to the
// daemon), and the tests and scripts that drive the real daemon directly
// to check the agent from outside or to measure it against raw Docker.
var mobyAllowed = []string{"internal/dockerstate", "test/e2e", "test/bench", "hack"}

func TestOnlyDockerstateImportsMoby(t *testing.T) {
	for pkg, imports := range moduleImports(t) {
		rel := strings.TrimPrefix(pkg, module)
		if allowed(rel, mobyAllowed) {
			continue
		}
		for _, imp := range imports {
			if imp == "github.com/moby/moby" || strings.HasPrefix(imp, "github.com/moby/moby/") {
				t.Errorf("%s imports %s; only internal/dockerstate may talk to Docker: describe what you need in dockerstate's own types", rel, imp)
			}
		}
	}
}

// allowed reports whether the package rel is one of dirs or below one.
func allowed(rel string, dirs []string) bool {
	for _, d := range dirs {
		if rel == d || strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

// moduleImports lists what each package of the module imports directly,
// its test files' imports included.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command(goTool(), "list", "-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 0 {
			pkgs[fields[0]] = fields[1:]
		}
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; want the whole module:\n%s", len(pkgs), out)
	}
	return pkgs
}

// goTool is the go command of the toolchain running the test.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
