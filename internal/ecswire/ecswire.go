// Package ecswire is the ECS API's wire format, awsJson1_1, for the SDK's
// own types (types.Task, ecs.RegisterTaskDefinitionInput, …): the fake ECS
// endpoint answers and reads requests with it, and the control plane source
// uses it to write a described task definition back as the JSON that
// register-task-definition takes.
//
// The SDK's types carry no JSON tags, and the SDK's own codec cannot decode
// an operation's input, so this is a reflection codec that follows the
// protocol's rules, checked against the SDK client in this package's tests:
//
//   - a member is named as in the Smithy model, which for every ECS shape is
//     the Go field name with its first letter lowered ("ContainerDefinitions"
//     is "containerDefinitions");
//   - an unset member (nil pointer, nil list or map, zero time, empty enum)
//     is left out, while an empty list or map is written as [] or {};
//   - timestamps are epoch seconds as JSON numbers, with milliseconds;
//   - blobs are base64 strings;
//   - a union is an object with exactly one member, named after the Go
//     type's suffix ("SharingStrategyMemberNvidiaMps" is "nvidiaMps").
package ecswire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Marshal encodes v (an SDK input, output or shape, a pointer to one, or a
// list of them) as awsJson1_1. A nil v is the empty structure {}, which is
// what an operation without output answers.
func Marshal(v any) ([]byte, error) {
	return Encoder{}.Marshal(v)
}

// Encoder turns SDK values into their awsJson1_1 form.
type Encoder struct {
	// OmitEmpty also leaves out structure members holding an empty string,
	// list or map, as if they were unset. The SDK sends such members as they
	// are; a reader that, like ECS, takes "" and [] for "not given" wants
	// them gone. Elements of lists and maps are always kept.
	OmitEmpty bool
}

// Marshal encodes v as awsJson1_1; see the package function Marshal.
func (e Encoder) Marshal(v any) ([]byte, error) {
	w, err := e.Encode(v)
	if err != nil {
		return nil, err
	}
	if w == nil {
		w = map[string]any{}
	}
	return json.Marshal(w)
}

// Encode returns v's wire form as values encoding/json writes unchanged:
// map[string]any for a structure, union or map, []any for a list, string,
// bool, int64, float64, and json.Number for a timestamp. It returns nil for
// an unset v.
func (e Encoder) Encode(v any) (any, error) {
	w, _, err := e.encode(reflect.ValueOf(v), "")
	if err != nil {
		return nil, fmt.Errorf("ecswire: encode %T: %w", v, err)
	}
	return w, nil
}

// Unmarshal decodes awsJson1_1 into into, a pointer to an SDK value. Members
// the Go type does not know are ignored, as a service ignores them; a member
// of the wrong JSON type is an error naming its path. An empty data leaves
// into as it is.
func Unmarshal(data []byte, into any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dst := reflect.ValueOf(into)
	if dst.Kind() != reflect.Pointer || dst.IsNil() {
		return fmt.Errorf("ecswire: decode into %T: want a non-nil pointer", into)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // integers beyond 2^53 and exact epoch milliseconds
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("ecswire: decode %T: %w", into, err)
	}
	if err := decode(raw, dst.Elem(), ""); err != nil {
		return fmt.Errorf("ecswire: decode %T: %w", into, err)
	}
	return nil
}

// memberName is the wire name of an SDK field or union member.
func memberName(goName string) string {
	return strings.ToLower(goName[:1]) + goName[1:]
}
