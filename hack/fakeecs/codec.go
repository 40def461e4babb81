package fakeecs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
)

// The fake keeps its state in the SDK's own types (types.Task, types.ContainerInstance, …) so that
// every field the real client knows round-trips. Those types carry no JSON tags: the awsJson1_1
// protocol names a member exactly as the Smithy model does, which is the Go field name with its
// first letter lowered (checked against the ecs@v1.104.1 schemas: no exception). Timestamps are
// epoch seconds as JSON numbers, blobs are base64 strings.

var timeType = reflect.TypeOf(time.Time{})

// toWire turns an SDK value into a JSON-ready value: maps keyed by wire member names.
func toWire(v reflect.Value) (any, bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, false
		}
		return toWire(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		return toWire(v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			t := v.Interface().(time.Time)
			if t.IsZero() {
				return nil, false
			}
			return json.Number(formatEpoch(t)), true
		}
		out := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Name == "ResultMetadata" {
				continue
			}
			if w, ok := toWire(v.Field(i)); ok {
				out[wireName(f.Name)] = w
			}
		}
		return out, true
	case reflect.Slice:
		if v.IsNil() {
			return nil, false
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.EncodeToString(v.Bytes()), true
		}
		out := make([]any, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			w, _ := toWire(v.Index(i))
			out = append(out, w)
		}
		return out, true
	case reflect.Map:
		if v.IsNil() {
			return nil, false
		}
		out := map[string]any{}
		iter := v.MapRange()
		for iter.Next() {
			w, _ := toWire(iter.Value())
			out[iter.Key().String()] = w
		}
		return out, true
	case reflect.String:
		if v.Type() != reflect.TypeOf("") && v.String() == "" {
			return nil, false // an unset enum
		}
		return v.String(), true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	default:
		return nil, false
	}
}

func formatEpoch(t time.Time) string {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return fmt.Sprintf("%d", ms/1000)
	}
	return fmt.Sprintf("%d.%03d", ms/1000, ms%1000)
}

func wireName(goName string) string {
	return strings.ToLower(goName[:1]) + goName[1:]
}

// marshalWire encodes an SDK value (input, output or type) as awsJson1_1.
func marshalWire(v any) ([]byte, error) {
	w, ok := toWire(reflect.ValueOf(v))
	if !ok {
		w = map[string]any{}
	}
	return json.Marshal(w)
}

// unmarshalWire decodes awsJson1_1 into an SDK value (a pointer). Unknown members are ignored, as
// a service ignores them; a member of the wrong JSON type is an error.
func unmarshalWire(data []byte, into any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	return fromWire(raw, reflect.ValueOf(into).Elem(), "")
}

func fromWire(raw any, v reflect.Value, path string) error {
	if raw == nil {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := fromWire(raw, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Interface:
		return nil // documents and unions are not used by the calls the fake serves
	case reflect.Struct:
		if v.Type() == timeType {
			n, ok := raw.(json.Number)
			if !ok {
				return fmt.Errorf("%s: want epoch seconds, got %T", path, raw)
			}
			f, err := n.Float64()
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			sec, frac := math.Modf(f)
			v.Set(reflect.ValueOf(time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC()))
			return nil
		}
		m, ok := raw.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want object, got %T", path, raw)
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name := wireName(f.Name)
			if r, ok := m[name]; ok {
				if err := fromWire(r, v.Field(i), path+"."+name); err != nil {
					return err
				}
			}
		}
		return nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			s, ok := raw.(string)
			if !ok {
				return fmt.Errorf("%s: want base64 string, got %T", path, raw)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			v.SetBytes(b)
			return nil
		}
		a, ok := raw.([]any)
		if !ok {
			return fmt.Errorf("%s: want array, got %T", path, raw)
		}
		s := reflect.MakeSlice(v.Type(), len(a), len(a))
		for i, r := range a {
			if err := fromWire(r, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		m, ok := raw.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want object, got %T", path, raw)
		}
		out := reflect.MakeMapWithSize(v.Type(), len(m))
		for k, r := range m {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := fromWire(r, e, path+"."+k); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
		v.Set(out)
		return nil
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			return fmt.Errorf("%s: want string, got %T", path, raw)
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			return fmt.Errorf("%s: want boolean, got %T", path, raw)
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := raw.(json.Number)
		if !ok {
			return fmt.Errorf("%s: want number, got %T", path, raw)
		}
		i, err := n.Int64()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		v.SetInt(i)
		return nil
	case reflect.Float32, reflect.Float64:
		n, ok := raw.(json.Number)
		if !ok {
			return fmt.Errorf("%s: want number, got %T", path, raw)
		}
		f, err := n.Float64()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		v.SetFloat(f)
		return nil
	}
	return nil
}

// convert copies the members two SDK shapes share (e.g. RegisterTaskDefinitionInput into
// TaskDefinition), and deep-copies when both are the same type.
func convert(from, into any) {
	b, err := marshalWire(from)
	if err != nil {
		panic(fmt.Sprintf("fakeecs: encode %T: %v", from, err))
	}
	if err := unmarshalWire(b, into); err != nil {
		panic(fmt.Sprintf("fakeecs: decode %T into %T: %v", from, into, err))
	}
}

// clone deep-copies an SDK value through the wire form.
func clone[T any](v T) T {
	var out T
	convert(v, &out)
	return out
}
