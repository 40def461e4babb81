// Package ecsws holds what ECS's two websocket services share: ACS, which
// pushes tasks and credentials to the agent, and TCS, which takes its
// telemetry. Both frame each message as {"type":T,"message":{…}} (Codec),
// both refuse an upgrade with a bare {"XxxException":"text"} body, both
// are entered by a SigV4-signed GET (sign.go; TCS also signs every frame
// the agent sends), and both reconnect with a jittered backoff (backoff.go).
// What the messages mean is the acs and tcs packages'.
package ecsws

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
)

// Exception is a service's exception, from a frame or a refused upgrade.
type Exception struct {
	// Type is the exception's shape name, e.g. InactiveInstanceException.
	Type    string `json:"-"`
	Message string `json:"message,omitempty"`
}

func (e *Exception) Error() string { return e.Type + ": " + e.Message }

// ErrUnknownType is wrapped by Decode for a frame whose type the codec does
// not know: the caller drops it (and, as the ECS agent does, does not count
// it as activity).
var ErrUnknownType = errors.New("unknown message type")

// Codec encodes and decodes the frames of one service.
type Codec struct {
	service    string
	types      map[string]reflect.Type
	exceptions []string
}

// NewCodec returns the codec of a service (named in errors) whose frames
// carry the given message types (values of the model's shapes, named as
// the shapes are) and exception names.
func NewCodec(service string, messages []any, exceptions []string) *Codec {
	c := &Codec{service: service, types: map[string]reflect.Type{}, exceptions: exceptions}
	for _, v := range messages {
		t := reflect.TypeOf(v)
		c.types[t.Name()] = t
	}
	return c
}

type frame struct {
	Type    string          `json:"type"`
	Message json.RawMessage `json:"message"`
}

// Encode writes msg (a pointer to or value of one of the codec's message
// types, or an *Exception) as a frame.
func (c *Codec) Encode(msg any) ([]byte, error) {
	if ex, ok := msg.(*Exception); ok {
		body, err := json.Marshal(ex)
		if err != nil {
			return nil, err
		}
		return json.Marshal(frame{Type: ex.Type, Message: body})
	}
	t := reflect.TypeOf(msg)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || c.types[t.Name()] != t {
		return nil, fmt.Errorf("encode %s frame: %T is not a %s message type", c.service, msg, c.service)
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", c.service, t.Name(), err)
	}
	return json.Marshal(frame{Type: t.Name(), Message: body})
}

// Decode reads a frame into a pointer to its message type, or an
// *Exception. A frame of a type the codec does not know gives an error
// wrapping ErrUnknownType.
func (c *Codec) Decode(data []byte) (any, error) {
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decode %s frame: %w", c.service, err)
	}
	if slices.Contains(c.exceptions, f.Type) {
		ex := &Exception{Type: f.Type}
		if len(f.Message) > 0 && string(f.Message) != "null" {
			if err := json.Unmarshal(f.Message, ex); err != nil {
				return nil, fmt.Errorf("decode %s %s: %w", c.service, f.Type, err)
			}
		}
		return ex, nil
	}
	t, ok := c.types[f.Type]
	if !ok {
		return nil, fmt.Errorf("decode %s frame: %w %q", c.service, ErrUnknownType, f.Type)
	}
	v := reflect.New(t)
	if err := json.Unmarshal(f.Message, v.Interface()); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", c.service, f.Type, err)
	}
	return v.Interface(), nil
}

// DecodeRefusal reads the body of a refused upgrade, the bare one-key form
// {"InactiveInstanceException":"text"} (or a frame); nil if it is neither.
func (c *Codec) DecodeRefusal(body []byte) *Exception {
	var bare map[string]json.RawMessage
	if json.Unmarshal(body, &bare) == nil && len(bare) == 1 {
		for k, v := range bare {
			var text string
			if slices.Contains(c.exceptions, k) && json.Unmarshal(v, &text) == nil {
				return &Exception{Type: k, Message: text}
			}
		}
	}
	if m, err := c.Decode(body); err == nil {
		if ex, ok := m.(*Exception); ok {
			return ex
		}
	}
	return nil
}

// EncodeRefusal is the body of a refused upgrade: {"<Type>":"<message>"}.
func EncodeRefusal(ex *Exception) []byte {
	b, _ := json.Marshal(map[string]string{ex.Type: ex.Message})
	return b
}

// TypeName is the frame type of a message, for logs and metrics.
func TypeName(msg any) string {
	if ex, ok := msg.(*Exception); ok {
		return ex.Type
	}
	t := reflect.TypeOf(msg)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
