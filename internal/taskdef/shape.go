package taskdef

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// checkShape walks a decoded JSON document against the Go type that
// describes it (the ECS types in ecs.go, through their json tags) and
// reports every unknown field and every value of the wrong JSON type. It
// exists because encoding/json stops at the first unknown field, says
// nothing of where it was, and is case-insensitive about names, where the
// AWS CLI is not.
//
// A null is taken as an absent field.
func checkShape(ps *problems, path string, v any, t reflect.Type) {
	if v == nil {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		checkObject(ps, path, v, t)
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			ps.add(path, render(v), "must be an array")
			return
		}
		for i, e := range arr {
			if e == nil {
				ps.add(index(path, i), "null", "must not be null")
				continue
			}
			checkShape(ps, index(path, i), e, t.Elem())
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			ps.add(path, render(v), "must be an object of strings")
			return
		}
		for _, k := range sortedKeys(obj) {
			if obj[k] == nil {
				ps.add(fmt.Sprintf("%s[%q]", path, k), "null", "must be a string")
				continue
			}
			checkShape(ps, fmt.Sprintf("%s[%q]", path, k), obj[k], t.Elem())
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			ps.add(path, render(v), "must be a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			ps.add(path, render(v), "must be true or false")
		}
	case reflect.Int32:
		checkInteger(ps, path, v, math.MinInt32, math.MaxInt32)
	case reflect.Int64:
		checkInteger(ps, path, v, math.MinInt64, math.MaxInt64)
	default:
		panic(fmt.Sprintf("taskdef: no shape check for %s", t))
	}
}

func checkObject(ps *problems, path string, v any, t reflect.Type) {
	obj, ok := v.(map[string]any)
	if !ok {
		ps.add(path, render(v), "must be an object")
		return
	}
	fields := jsonFields(t)
	for _, k := range sortedKeys(obj) {
		f, ok := fields[k]
		if !ok {
			ps.add(field(path, k), "", "%s", unknownFieldRule(path, k, fields))
			continue
		}
		checkShape(ps, field(path, k), obj[k], f)
	}
}

func checkInteger(ps *problems, path string, v any, lo, hi int64) {
	n, ok := v.(json.Number)
	if !ok {
		ps.add(path, render(v), "must be a number")
		return
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		if _, ferr := strconv.ParseFloat(string(n), 64); ferr == nil && !strings.ContainsAny(string(n), "eE.") {
			ps.add(path, string(n), "is out of range")
		} else {
			ps.add(path, string(n), "must be a whole number")
		}
		return
	}
	if i < lo || i > hi {
		ps.add(path, string(n), "is out of range")
	}
}

// unknownFieldRule says a field is unknown, with the likely intended name
// when there is one.
func unknownFieldRule(path, name string, fields map[string]reflect.Type) string {
	if path == "" && outputOnly[name] {
		return "unknown field: it is an output of describe-task-definition, which register-task-definition does not accept; remove it"
	}
	if path == "" && name == "taskDefinition" {
		return "unknown field: this looks like describe-task-definition output; use the object under taskDefinition, without its output-only fields"
	}
	if guess := closest(name, fields); guess != "" {
		return fmt.Sprintf("unknown field (did you mean %q?)", guess)
	}
	return "unknown field"
}

// closest finds a known field name that differs from name only in case or
// by at most two edits.
func closest(name string, fields map[string]reflect.Type) string {
	best, bestDist := "", 3
	for k := range fields {
		if strings.EqualFold(k, name) {
			return k
		}
		d := editDistance(strings.ToLower(k), strings.ToLower(name))
		if d > len(name)/3 {
			continue // too far to be a typo of this one
		}
		if d < bestDist || (d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// jsonFields maps a struct's JSON field names to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = f.Type
	}
	return m
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// render shows a decoded JSON value as it was written, shortened.
func render(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const max = 60
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
