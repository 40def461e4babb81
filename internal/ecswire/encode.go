package ecswire

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// encode returns v's wire form and whether v is set at all; path names v in
// errors.
func (e Encoder) encode(v reflect.Value, path string) (any, bool, error) {
	switch v.Kind() {
	case reflect.Invalid:
		return nil, false, nil
	case reflect.Pointer:
		if v.IsNil() {
			return nil, false, nil
		}
		return e.encode(v.Elem(), path)
	case reflect.Interface:
		if v.IsNil() {
			return nil, false, nil
		}
		return e.encodeUnion(v, path)
	case reflect.Struct:
		if v.Type() == timeType {
			t := v.Interface().(time.Time)
			if t.IsZero() {
				return nil, false, nil
			}
			return json.Number(formatEpoch(t)), true, nil
		}
		return e.encodeStruct(v, path)
	case reflect.Slice:
		if v.IsNil() {
			return nil, false, nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.EncodeToString(v.Bytes()), true, nil
		}
		out := make([]any, 0, v.Len())
		for i := range v.Len() {
			w, _, err := e.encode(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, false, err
			}
			out = append(out, w)
		}
		return out, true, nil
	case reflect.Map:
		if v.IsNil() {
			return nil, false, nil
		}
		out := make(map[string]any, v.Len())
		for iter := v.MapRange(); iter.Next(); {
			k := iter.Key().String()
			w, _, err := e.encode(iter.Value(), join(path, k))
			if err != nil {
				return nil, false, err
			}
			out[k] = w
		}
		return out, true, nil
	case reflect.String:
		// An enum (a named string type) that is "" is unset; a plain string
		// member is a pointer, so a plain string here is a list or map
		// element and kept as it is.
		if v.Type().PkgPath() != "" && v.Len() == 0 {
			return nil, false, nil
		}
		return v.String(), true, nil
	case reflect.Bool:
		return v.Bool(), true, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true, nil
	case reflect.Float32, reflect.Float64:
		return v.Float(), true, nil
	}
	return nil, false, fmt.Errorf("%s: no awsJson1_1 form for a Go %s", pathOrTop(path), v.Type())
}

func (e Encoder) encodeStruct(v reflect.Value, path string) (any, bool, error) {
	out := map[string]any{}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		// ResultMetadata is the SDK's record of the call, not a member.
		if !f.IsExported() || f.Name == "ResultMetadata" {
			continue
		}
		fv := v.Field(i)
		if e.OmitEmpty && isEmpty(fv) {
			continue
		}
		name := memberName(f.Name)
		w, ok, err := e.encode(fv, join(path, name))
		if err != nil {
			return nil, false, err
		}
		if ok {
			out[name] = w
		}
	}
	return out, true, nil
}

// encodeUnion writes the union member v holds as an object with that one
// member.
func (e Encoder) encodeUnion(v reflect.Value, path string) (any, bool, error) {
	held := v.Elem()
	m, ok := memberByType[held.Type()]
	if !ok {
		return nil, false, fmt.Errorf("%s: %s holds %s, which is not a known union member", pathOrTop(path), v.Type(), held.Type())
	}
	if held.IsNil() {
		return nil, false, nil
	}
	w, _, err := e.encode(held.Elem().FieldByName("Value"), join(path, m.name))
	if err != nil {
		return nil, false, err
	}
	return map[string]any{m.name: w}, true, nil
}

// isEmpty reports whether v, through any pointers, is an empty string, list
// or map.
func isEmpty(v reflect.Value) bool {
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String, reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return false
}

// formatEpoch writes t as epoch seconds with the milliseconds the protocol
// keeps.
func formatEpoch(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1e3, 'f', -1, 64)
}

// join names the member name of the value at path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// pathOrTop names the value at path in an error.
func pathOrTop(path string) string {
	if path == "" {
		return "value"
	}
	return path
}
