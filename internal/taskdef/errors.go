package taskdef

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Problem is one thing wrong with a task definition.
type Problem struct {
	// Path is the JSON path of the field, as in
	// containerDefinitions[1].portMappings[0].protocol; empty for the whole
	// document.
	Path string
	// Value is the bad value as written (JSON), or empty when the field is
	// missing.
	Value string
	// Rule says what the field must be.
	Rule string
}

// String renders the problem as "path: value: rule".
func (p Problem) String() string {
	var b strings.Builder
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	if p.Value != "" {
		b.WriteString(p.Value)
		b.WriteString(": ")
	}
	b.WriteString(p.Rule)
	return b.String()
}

// InvalidError says why a task definition file cannot be run: every
// problem found, not only the first.
type InvalidError struct {
	File     string
	Problems []Problem
}

// Error renders the file and all its problems on one line, so that it reads
// well as a task's stopped reason.
func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return fmt.Sprintf("invalid task definition %s: %s", e.File, strings.Join(parts, "; "))
}

// SyntaxError is a file that is not JSON at all, with the place it stops
// being JSON.
type SyntaxError struct {
	File         string
	Line, Column int
	Msg          string
}

// Error renders as "invalid JSON in file:line:column: msg".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON in %s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// position turns a byte offset into a 1-based line and column (in bytes).
func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	if col == 0 {
		col = 1
	}
	return line, col
}

// problems collects problems under a path prefix as the checks walk the
// document.
type problems []Problem

func (ps *problems) add(path, value, rule string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Value: value, Rule: fmt.Sprintf(rule, args...)})
}

// quote renders a string value as JSON would.
func quote(s string) string { return fmt.Sprintf("%q", s) }

// field joins a path and a field name.
func field(path, name string) string {
	// An empty name, or one a terminal would not show as written, is
	// quoted, so that the path still names the field.
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		name = strconv.Quote(name)
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

// index joins a path and an array index.
func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
