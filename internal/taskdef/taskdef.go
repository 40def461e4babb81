// Package taskdef reads ECS task definitions in the JSON shape that
// `aws ecs register-task-definition --cli-input-json` takes, checks them as
// ECS does at registration (plus what this agent cannot run), and turns them
// into the agent's TaskSpec.
//
// Every field RegisterTaskDefinition accepts is known; each is applied as
// ECS applies it, or refused with the reason (docs/task-definitions.md lists which). Any
// other field is an error, so that a typo is never silently ignored. Numbers must be JSON numbers and strings JSON strings,
// as in ECS (task-level cpu and memory are strings). All problems are
// reported at once, each with the JSON path of the field, the bad value and
// the rule it breaks.
package taskdef

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// Definition is a task definition that passed every check.
type Definition struct {
	// Spec holds the definition as the agent runs it, with ECS's defaults
	// applied (essential, protocol, network mode, health check timings).
	// The caller fills in identity, cluster, revision, source and desired
	// status.
	Spec apiv1.TaskSpec
}

// Parse reads one task definition from data; file names it in errors. The
// error is a *SyntaxError when data is not JSON and an *InvalidError when
// the definition breaks a rule.
func Parse(file string, data []byte) (*Definition, error) {
	doc, err := decode(file, data)
	if err != nil {
		return nil, err
	}
	var ps problems
	checkShape(&ps, "", doc, reflect.TypeFor[taskDefinition]())
	if len(ps) > 0 {
		return nil, &InvalidError{File: file, Problems: ps}
	}
	var td taskDefinition
	if err := json.Unmarshal(data, &td); err != nil {
		// The shape check passed, so this is a bug in it; say so plainly.
		return nil, &InvalidError{File: file, Problems: []Problem{{Rule: "cannot be decoded: " + err.Error()}}}
	}
	c := validate(&td)
	if len(c.ps) > 0 {
		return nil, &InvalidError{File: file, Problems: c.ps}
	}
	return &Definition{Spec: convert(&td)}, nil
}

// Family returns the family a file names, if it names a valid one, however
// broken the rest is; "" otherwise. It lets a bad file's task show which
// definition it was.
func Family(data []byte) string {
	var v struct {
		Family string `json:"family"`
	}
	if json.Unmarshal(data, &v) != nil || !namePattern.MatchString(v.Family) {
		return ""
	}
	return v.Family
}

// decode reads exactly one JSON value, keeping numbers as written.
func decode(file string, data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &InvalidError{File: file, Problems: []Problem{{Rule: "the file is empty; it must hold one task definition object"}}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, syntaxError(file, data, err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		rest := data[end:]
		next := end + int64(len(rest)-len(bytes.TrimLeft(rest, " \t\r\n")))
		line, col := position(data, next+1)
		return nil, &SyntaxError{File: file, Line: line, Column: col, Msg: "unexpected data after the task definition object"}
	}
	// JSON lets a key appear twice, and decoders disagree on which one
	// counts: say which field is ambiguous rather than pick one.
	if ps := duplicateKeys(data); len(ps) > 0 {
		return nil, &InvalidError{File: file, Problems: ps}
	}
	return doc, nil
}

// duplicateKeys finds the object keys that appear more than once in the
// same object of a document already known to be valid JSON.
func duplicateKeys(data []byte) problems {
	var ps problems
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func(path string)
	walk = func(path string) {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return
				}
				k, _ := kt.(string)
				if seen[k] {
					ps.add(field(path, k), "", "appears more than once in the same object; keep one")
				}
				seen[k] = true
				walk(field(path, k))
			}
			_, _ = dec.Token() // }
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				walk(index(path, i))
			}
			_, _ = dec.Token() // ]
		}
	}
	walk("")
	return ps
}

func syntaxError(file string, data []byte, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		line, col := position(data, se.Offset)
		return &SyntaxError{File: file, Line: line, Column: col, Msg: se.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(data, int64(len(data)))
		return &SyntaxError{File: file, Line: line, Column: col, Msg: "unexpected end of JSON input"}
	default:
		return &SyntaxError{File: file, Line: 1, Column: 1, Msg: err.Error()}
	}
}
