package ecswire

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"time"
)

// decode sets v from raw, a value encoding/json decoded with UseNumber; path
// names v in errors. A JSON null leaves v unset.
func decode(raw any, v reflect.Value, path string) error {
	if raw == nil {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := decode(raw, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Interface:
		return decodeUnion(raw, v, path)
	case reflect.Struct:
		if v.Type() == timeType {
			return decodeTime(raw, v, path)
		}
		return decodeStruct(raw, v, path)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return decodeBlob(raw, v, path)
		}
		a, ok := raw.([]any)
		if !ok {
			return wrongType(path, "array", raw)
		}
		s := reflect.MakeSlice(v.Type(), len(a), len(a))
		for i, r := range a {
			if err := decode(r, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		m, ok := raw.(map[string]any)
		if !ok {
			return wrongType(path, "object", raw)
		}
		out := reflect.MakeMapWithSize(v.Type(), len(m))
		for k, r := range m {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := decode(r, e, join(path, k)); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
		v.Set(out)
		return nil
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			return wrongType(path, "string", raw)
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			return wrongType(path, "boolean", raw)
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return decodeInt(raw, v, path)
	case reflect.Float32, reflect.Float64:
		f, err := decodeFloat(raw, path, "number")
		if err != nil {
			return err
		}
		v.SetFloat(f)
		return nil
	}
	return fmt.Errorf("%s: no awsJson1_1 form for a Go %s", pathOrTop(path), v.Type())
}

func decodeStruct(raw any, v reflect.Value, path string) error {
	m, ok := raw.(map[string]any)
	if !ok {
		return wrongType(path, "object", raw)
	}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() || f.Name == "ResultMetadata" {
			continue
		}
		name := memberName(f.Name)
		if r, ok := m[name]; ok {
			if err := decode(r, v.Field(i), join(path, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeUnion sets v, a union interface, to the member raw names.
func decodeUnion(raw any, v reflect.Value, path string) error {
	members, ok := unionMembers[v.Type()]
	if !ok {
		return fmt.Errorf("%s: %s is not a known union", pathOrTop(path), v.Type())
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return wrongType(path, "object", raw)
	}
	if len(m) != 1 {
		return fmt.Errorf("%s: a union holds exactly one member, got %d", pathOrTop(path), len(m))
	}
	for name, r := range m {
		typ, ok := members[name]
		if !ok {
			return fmt.Errorf("%s: %s has no member %q", pathOrTop(path), v.Type(), name)
		}
		p := reflect.New(typ.Elem())
		if err := decode(r, p.Elem().FieldByName("Value"), join(path, name)); err != nil {
			return err
		}
		v.Set(p)
	}
	return nil
}

func decodeTime(raw any, v reflect.Value, path string) error {
	f, err := decodeFloat(raw, path, "epoch seconds")
	if err != nil {
		return err
	}
	sec, frac := math.Modf(f)
	v.Set(reflect.ValueOf(time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC()))
	return nil
}

// decodeFloat reads a JSON number; want names what it stands for in errors.
func decodeFloat(raw any, path, want string) (float64, error) {
	n, ok := raw.(json.Number)
	if !ok {
		return 0, wrongType(path, want, raw)
	}
	f, err := n.Float64()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", pathOrTop(path), err)
	}
	return f, nil
}

func decodeBlob(raw any, v reflect.Value, path string) error {
	s, ok := raw.(string)
	if !ok {
		return wrongType(path, "base64 string", raw)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("%s: %w", pathOrTop(path), err)
	}
	v.SetBytes(b)
	return nil
}

func decodeInt(raw any, v reflect.Value, path string) error {
	n, ok := raw.(json.Number)
	if !ok {
		return wrongType(path, "number", raw)
	}
	i, err := n.Int64()
	if err != nil {
		return fmt.Errorf("%s: want an integer: %w", pathOrTop(path), err)
	}
	if v.OverflowInt(i) {
		return fmt.Errorf("%s: %d does not fit in a Go %s", pathOrTop(path), i, v.Type())
	}
	v.SetInt(i)
	return nil
}

func wrongType(path, want string, raw any) error {
	return fmt.Errorf("%s: want %s, got %s", pathOrTop(path), want, jsonType(raw))
}

// jsonType names the JSON type of a decoded value.
func jsonType(raw any) string {
	switch raw.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	}
	return fmt.Sprintf("%T", raw)
}
