package layering

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is this repository's module path; rules name packages relative
// to it.
const module = "github.com/ecs-agent/ecs-agent"

// A rule names an import and the packages that may not use it. Patterns are
// module-relative package paths; "x/..." is x and every package below it.
type rule struct {
	// name says the rule in a few words; it names the subtest.
	name string
	// imported is an import path; the rule covers it and every package below
	// it (a module path covers the whole module).
	imported string
	// scope is the packages the rule applies to.
	scope []string
	// allowed is the packages in scope that may import it all the same.
	allowed []string
	// transitive also forbids depending on it through other packages, not
	// only importing it: the package must not need it to build at all.
	// Test files are checked for their own imports only.
	transitive bool
}

// rules are the boundaries of the architecture. Add one when a boundary is
// drawn; a rule that does not hold yet cannot go in (fix the code first, or
// narrow the scope to where it holds and say which package is left out).
var rules = []rule{
	{
		// Sources, the CLI and the endpoints work with objects (api/v1)
		// and the small packages under them; only the wiring of the daemon
		// builds reconcilers.
		name:       "only internal/agent depends on the reconcilers",
		imported:   module + "/controllers",
		scope:      []string{"internal/..."},
		allowed:    []string{"internal/agent"},
		transitive: true,
	},
	{
		// STYLE habit 3: consumers describe what they need in
		// dockerstate's own types (test/e2e, test/bench and hack drive
		// the real daemon from outside, and are out of scope).
		name:     "only internal/dockerstate imports the Docker client and types",
		imported: "github.com/moby/moby",
		scope:    []string{"api/...", "cmd/...", "controllers/...", "internal/..."},
		allowed:  []string{"internal/dockerstate/..."},
	},
	{
		// STYLE habit 3: the ECS source and the state submitter are the
		// only callers of the ECS API (hack/fakeecs and test/ play ECS);
		// internal/ecswire is the wire codec of the ECS client's types.
		name:     "only internal/controlplane imports the ECS client",
		imported: "github.com/aws/aws-sdk-go-v2/service/ecs",
		scope:    []string{"api/...", "cmd/...", "controllers/...", "internal/..."},
		allowed:  []string{"internal/controlplane", "internal/ecswire"},
	},
	{
		// The notify protocol and the journal stream are systemd's
		// hand-over to the process; one package speaks them.
		name:     "only internal/systemd imports go-systemd",
		imported: "github.com/coreos/go-systemd",
		scope:    []string{"api/...", "cmd/...", "controllers/...", "internal/..."},
		allowed:  []string{"internal/systemd/..."},
	},
	{
		// Task roles are assumed in one place, which keeps their keys in
		// memory only (hack/fakeaws and test/ play STS).
		name:     "only internal/credentials imports the STS client",
		imported: "github.com/aws/aws-sdk-go-v2/service/sts",
		scope:    []string{"api/...", "cmd/...", "controllers/...", "internal/..."},
		allowed:  []string{"internal/credentials"},
	},
	{
		// Secret values are read in one place, which hands them to the
		// container's environment and nowhere else.
		name:     "only internal/secrets imports the SSM client",
		imported: "github.com/aws/aws-sdk-go-v2/service/ssm",
		scope:    []string{"api/...", "cmd/...", "controllers/...", "internal/..."},
		allowed:  []string{"internal/secrets"},
	},
	{
		name:     "only internal/secrets imports the Secrets Manager client",
		imported: "github.com/aws/aws-sdk-go-v2/service/secretsmanager",
		scope:    []string{"api/...", "cmd/...", "controllers/...", "internal/..."},
		allowed:  []string{"internal/secrets"},
	},
	{
		// The host's firewall is changed by setup-host alone, never by
		// the running agent.
		name:     "only internal/hostsetup imports iptables",
		imported: "github.com/coreos/go-iptables",
		scope:    []string{"api/...", "cmd/...", "controllers/...", "internal/..."},
		allowed:  []string{"internal/hostsetup"},
	},
	{
		// The objects are the bottom layer: everything may import them,
		// so they import nothing of ours (small helpers only).
		name:     "api/v1 imports nothing of this module",
		imported: module,
		scope:    []string{"api/..."},
	},
}

// pkg is what go list says of one package.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
	Error        *struct{ Err string }
}

func TestPackagesImportOnlyAcrossAllowedBoundaries(t *testing.T) {
	pkgs := listPackages(t)
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			for _, msg := range r.check(pkgs) {
				t.Error(msg)
			}
		})
	}
}

// check returns one message per package that breaks r, and one for each
// part of r that matches nothing: a rule whose scope or allowed packages
// were renamed away would otherwise pass without checking anything.
func (r rule) check(pkgs []pkg) []string {
	var msgs []string
	inScope, importedAnywhere := false, false
	for _, p := range pkgs {
		rel := relative(p.ImportPath)
		direct := slices.Concat(p.Imports, p.TestImports, p.XTestImports)
		if slices.ContainsFunc(direct, r.covers) {
			importedAnywhere = true
		}
		if !matchAny(r.scope, rel) {
			continue
		}
		inScope = true
		if matchAny(r.allowed, rel) {
			continue
		}
		for _, imp := range p.Imports {
			if r.covers(imp) {
				msgs = append(msgs, rel+" imports "+imp)
			}
		}
		for _, imp := range slices.Concat(p.TestImports, p.XTestImports) {
			if r.covers(imp) && imp != p.ImportPath && !slices.Contains(p.Imports, imp) {
				msgs = append(msgs, rel+" imports "+imp+" in its tests")
			}
		}
		if !r.transitive {
			continue
		}
		for _, dep := range p.Deps {
			if r.covers(dep) && !slices.Contains(p.Imports, dep) {
				msgs = append(msgs, rel+" depends on "+dep+" (through "+strings.Join(through(p, dep, pkgs), ", ")+")")
			}
		}
	}
	if !inScope {
		msgs = append(msgs, "no package matches the scope "+strings.Join(r.scope, " "))
	}
	if !importedAnywhere {
		msgs = append(msgs, "no package imports "+r.imported+": is the rule out of date?")
	}
	for _, a := range r.allowed {
		if !slices.ContainsFunc(pkgs, func(p pkg) bool { return match(a, relative(p.ImportPath)) }) {
			msgs = append(msgs, "allowed package "+a+" does not exist")
		}
	}
	return msgs
}

// covers reports whether path is r.imported or below it.
func (r rule) covers(path string) bool {
	return path == r.imported || strings.HasPrefix(path, r.imported+"/")
}

// through names p's own imports of this module that bring dep in.
func through(p pkg, dep string, pkgs []pkg) []string {
	var via []string
	for _, imp := range p.Imports {
		for _, q := range pkgs {
			if q.ImportPath == imp && (slices.Contains(q.Deps, dep) || slices.Contains(q.Imports, dep)) {
				via = append(via, relative(imp))
			}
		}
	}
	return via
}

func relative(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
}

func matchAny(patterns []string, rel string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return match(p, rel) })
}

// match reports whether the module-relative package rel matches pattern,
// where "x/..." matches x and every package below it.
func match(pattern, rel string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

// listPackages lists every package of the module with its imports, its
// tests' imports and everything it depends on.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports,Deps,Error", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("read go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages of %s; run the test inside the module", len(pkgs), module)
	}
	return pkgs
}

func TestMatchTakesDotsAsThePackageAndEverythingBelow(t *testing.T) {
	for _, tc := range []struct {
		pattern, rel string
		want         bool
	}{
		{"internal/...", "internal", true},
		{"internal/...", "internal/cli", true},
		{"internal/...", "internalx", false},
		{"internal/agent", "internal/agent", true},
		{"internal/agent", "internal/agent/sub", false},
		{"internal/dockerstate/...", "internal/dockerstate/dockerfake", true},
	} {
		if got := match(tc.pattern, tc.rel); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pattern, tc.rel, got, tc.want)
		}
	}
}

func TestARuleCatchesADirectATransitiveAndATestImport(t *testing.T) {
	ctrl := module + "/controllers"
	r := rule{name: "test", imported: ctrl, scope: []string{"internal/..."}, allowed: []string{"internal/agent"}, transitive: true}
	pkgs := []pkg{
		{ImportPath: ctrl},
		{ImportPath: module + "/internal/agent", Imports: []string{ctrl}, Deps: []string{ctrl}},
		{ImportPath: module + "/internal/cli", Imports: []string{ctrl}, TestImports: []string{ctrl}, Deps: []string{ctrl}},
		{ImportPath: module + "/internal/viaagent", Imports: []string{module + "/internal/agent"}, Deps: []string{ctrl, module + "/internal/agent"}},
		{ImportPath: module + "/internal/testonly", TestImports: []string{ctrl}},
		{ImportPath: module + "/internal/clean", Imports: []string{module + "/api/v1"}},
	}
	want := []string{
		"internal/cli imports " + ctrl,
		"internal/viaagent depends on " + ctrl + " (through internal/agent)",
		"internal/testonly imports " + ctrl + " in its tests",
	}
	if got := r.check(pkgs); !slices.Equal(got, want) {
		t.Errorf("check found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	stale := rule{name: "stale", imported: module + "/gone", scope: []string{"nowhere/..."}, allowed: []string{"internal/renamed"}}
	if got := stale.check(pkgs); len(got) != 3 {
		t.Errorf("a rule matching nothing gave %q, want three complaints (scope, import, allowed)", got)
	}
}
