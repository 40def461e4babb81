package taskdef

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// leafPaths lists the JSON path of every field under t, arrays unindexed.
func leafPaths(prefix string, t reflect.Type) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return []string{prefix}
	}
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		out = append(out, leafPaths(p, t.Field(i).Type)...)
	}
	return out
}

func covers(entry, leaf string) bool {
	return leaf == entry || strings.HasPrefix(leaf, entry+".")
}

// TestEveryFieldIsAppliedRefusedOrLeftToECS: each field register-task-definition
// takes is in Fields exactly once (itself or an object above it), and no
// entry names a field that does not exist.
func TestEveryFieldIsAppliedRefusedOrLeftToECS(t *testing.T) {
	leaves := leafPaths("", reflect.TypeFor[taskDefinition]())
	used := map[string]bool{}
	for _, leaf := range leaves {
		var by []string
		for _, f := range Fields {
			if covers(f.Path, leaf) {
				by = append(by, f.Path)
				used[f.Path] = true
			}
		}
		if len(by) != 1 {
			t.Errorf("field %s is listed by %d entries %q, want exactly one", leaf, len(by), by)
		}
	}
	for _, f := range Fields {
		if !used[f.Path] {
			t.Errorf("entry %s names no field of register-task-definition", f.Path)
		}
		if f.Support != Placement && f.Test == "" {
			t.Errorf("entry %s (%s) names no test that shows it", f.Path, f.Support)
		}
	}
}

// TestEveryRefusalHasADefinitionThatShowsIt: a field refused when the
// definition is read has a case in testdata/refused.json, which both the
// static and the ECS path run.
func TestEveryRefusalHasADefinitionThatShowsIt(t *testing.T) {
	cases := readRefusedCases(t, "testdata/refused.json")
	for _, f := range Fields {
		if f.Test != refusedWhenRead {
			continue
		}
		found := false
		for _, c := range cases {
			found = found || covers(f.Path, c.Field)
		}
		// On an ARM64 host the architecture case does not apply.
		if !found && f.Path != "runtimePlatform.cpuArchitecture" {
			t.Errorf("%s is refused when read but testdata/refused.json has no case for it", f.Path)
		}
	}
}

// TestTheNamedTestsExist: every test Fields names is a test of this
// repository.
func TestTheNamedTestsExist(t *testing.T) {
	var files []string
	for _, glob := range []string{"*_test.go", "../controlplane/*_test.go", "../../controllers/*_test.go", "../../test/e2e/*_test.go"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	var src strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	for _, f := range Fields {
		if f.Test != "" && !strings.Contains(src.String(), "func "+f.Test+"(t *testing.T)") {
			t.Errorf("%s names test %s, which does not exist", f.Path, f.Test)
		}
	}
}

// TestTheDocumentedTableIsFields: docs/task-definitions.md has one row per
// entry, with the same support and test, in the same order.
func TestTheDocumentedTableIsFields(t *testing.T) {
	b, err := os.ReadFile("../../docs/task-definitions.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([^`]+)` \\| (applied|refused|placement) \\| (?:`(Test[A-Za-z0-9_]+)`)? *\\|")
	var rows []Field
	for _, line := range strings.Split(string(b), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			rows = append(rows, Field{Path: m[1], Support: Support(m[2]), Test: m[3]})
		}
	}
	if len(rows) != len(Fields) {
		t.Errorf("the document's table has %d rows, Fields %d", len(rows), len(Fields))
	}
	for i := range min(len(rows), len(Fields)) {
		f := Fields[i]
		if rows[i].Path != f.Path || rows[i].Support != f.Support || rows[i].Test != f.Test {
			t.Errorf("row %d is %s %s %q, want %s %s %q", i+1, rows[i].Path, rows[i].Support, rows[i].Test, f.Path, f.Support, f.Test)
		}
	}
}
