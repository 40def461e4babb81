package taskdef

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// hiddenMarker replaces every environment value before a second parse: no
// error may show it, since environment values are where secrets live.
const hiddenMarker = "zzFUZZSECRETzz"

// FuzzParse holds Parse to three properties on any input: it never panics
// and fails only with a *SyntaxError or an *InvalidError whose problems
// each say what is wrong; a definition it accepts, decoded and encoded
// again as JSON, parses to the same spec; and no error shows the value of
// an environment variable.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"../../examples/tasks", "testdata"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := Parse("fuzz.json", data)
		if err != nil {
			checkParseError(t, err, data)
		} else {
			checkReencoded(t, data, def)
		}
		checkEnvironmentHidden(t, data)
	})
}

// checkParseError also holds each problem to naming its field: only a
// document that is not an object at all has a problem without a path.
func checkParseError(t *testing.T, err error, data []byte) {
	t.Helper()
	var se *SyntaxError
	var ie *InvalidError
	switch {
	case errors.As(err, &se):
		if se.Line < 1 || se.Column < 1 || se.Msg == "" {
			t.Fatalf("syntax error without a place or a reason: %#v", se)
		}
	case errors.As(err, &ie):
		if len(ie.Problems) == 0 {
			t.Fatalf("invalid error with no problem: %v", err)
		}
		for _, p := range ie.Problems {
			if p.Rule == "" {
				t.Fatalf("problem %+v says no rule", p)
			}
			if doc, _ := decodeNumbers(data); p.Path == "" && isObject(doc) {
				t.Fatalf("problem %+v of an object names no field", p)
			}
		}
	default:
		t.Fatalf("error %T (%v) is neither a *SyntaxError nor an *InvalidError", err, err)
	}
}

// checkReencoded parses the accepted document once more after a JSON
// decode and encode (keys sorted, spacing and escapes changed, numbers
// kept as written): what the user wrote is read the same however it is
// laid out.
func checkReencoded(t *testing.T, data []byte, def *Definition) {
	t.Helper()
	doc, err := decodeNumbers(data)
	if err != nil {
		t.Fatalf("accepted a document that does not decode: %v", err)
	}
	again, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("encode accepted document: %v", err)
	}
	def2, err := Parse("fuzz.json", again)
	if err != nil {
		t.Fatalf("re-encoded definition refused: %v\nfirst: %s\nagain: %s", err, data, again)
	}
	if !reflect.DeepEqual(def.Spec, def2.Spec) {
		t.Fatalf("re-encoded definition parses differently:\nfirst: %+v\nagain: %+v", def.Spec, def2.Spec)
	}
	if fam := Family(data); fam != def.Spec.Family {
		t.Fatalf("Family = %q, Parse's family = %q", fam, def.Spec.Family)
	}
}

// checkEnvironmentHidden replaces every string environment value with
// hiddenMarker and parses again: whatever else is wrong, the error must not
// show it.
func checkEnvironmentHidden(t *testing.T, data []byte) {
	t.Helper()
	doc, err := decodeNumbers(data)
	if err != nil {
		return
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return
	}
	cds, _ := top["containerDefinitions"].([]any)
	replaced := false
	for _, cd := range cds {
		c, _ := cd.(map[string]any)
		env, _ := c["environment"].([]any)
		for _, kv := range env {
			if m, ok := kv.(map[string]any); ok {
				if _, ok := m["value"].(string); ok {
					m["value"] = hiddenMarker
					replaced = true
				}
			}
		}
	}
	if !replaced {
		return
	}
	marked, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("fuzz.json", marked); err != nil && strings.Contains(err.Error(), hiddenMarker) {
		t.Fatalf("error shows an environment value: %v", err)
	}
}

func decodeNumbers(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return doc, nil
}

func isObject(doc any) bool {
	_, ok := doc.(map[string]any)
	return ok
}
