package acs

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// A frame is one websocket text message: {"type":T,"message":{…}}, T the
// model's shape name. The message types below are every shape that travels
// in a frame, either way; the exception shapes travel as ServerException
// (and the others of exceptionTypes).
var frameTypes = map[string]reflect.Type{}

// exceptionTypes are the errors of the model's Poll operation: a refused
// upgrade carries one as {"XxxException":"text"} in its body, and ACS may
// send one as a frame.
var exceptionTypes = []string{
	ExceptionInactiveInstance, ExceptionInvalidInstance, ExceptionInvalidCluster,
	ExceptionAccessDenied, ExceptionServer, ExceptionBadRequest,
}

// Exception names of the ACS model (the Poll operation's errors).
const (
	ExceptionInactiveInstance = "InactiveInstanceException"
	ExceptionInvalidInstance  = "InvalidInstanceException"
	ExceptionInvalidCluster   = "InvalidClusterException"
	ExceptionAccessDenied     = "AccessDeniedException"
	ExceptionServer           = "ServerException"
	ExceptionBadRequest       = "BadRequestException"
)

// Exception is an ACS exception, from a frame or a refused upgrade.
type Exception struct {
	// Type is one of the Exception… names.
	Type    string `json:"-"`
	Message string `json:"message,omitempty"`
}

func (e *Exception) Error() string { return e.Type + ": " + e.Message }

func init() {
	for _, v := range []any{
		PayloadMessage{}, IAMRoleCredentialsMessage{}, HeartbeatMessage{}, TaskManifestMessage{},
		TaskStopVerificationAck{}, CloseMessage{}, ErrorMessage{},
		AckRequest{}, HeartbeatAckRequest{}, IAMRoleCredentialsAckRequest{}, TaskStopVerificationMessage{}, NackRequest{},
	} {
		t := reflect.TypeOf(v)
		frameTypes[t.Name()] = t
	}
}

// ErrUnknownType is wrapped by Decode for a frame whose type this agent does
// not know (attachments, updates, …): dropped, not activity.
var ErrUnknownType = errors.New("unknown ACS message type")

type frame struct {
	Type    string          `json:"type"`
	Message json.RawMessage `json:"message"`
}

// Encode writes msg (a pointer to or value of one of the message types) as
// a frame.
func Encode(msg any) ([]byte, error) {
	t := reflect.TypeOf(msg)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if ex, ok := msg.(*Exception); ok {
		body, err := json.Marshal(ex)
		if err != nil {
			return nil, err
		}
		return json.Marshal(frame{Type: ex.Type, Message: body})
	}
	if t == nil || frameTypes[t.Name()] != t {
		return nil, fmt.Errorf("encode ACS frame: %T is not an ACS message type", msg)
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("encode ACS %s: %w", t.Name(), err)
	}
	return json.Marshal(frame{Type: t.Name(), Message: body})
}

// Decode reads a frame into a pointer to its message type (*PayloadMessage,
// …, or *Exception). A frame of a type it does not know gives an error
// wrapping ErrUnknownType.
func Decode(data []byte) (any, error) {
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decode ACS frame: %w", err)
	}
	if isException(f.Type) {
		ex := &Exception{Type: f.Type}
		if len(f.Message) > 0 && string(f.Message) != "null" {
			if err := json.Unmarshal(f.Message, ex); err != nil {
				return nil, fmt.Errorf("decode ACS %s: %w", f.Type, err)
			}
		}
		return ex, nil
	}
	t, ok := frameTypes[f.Type]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, f.Type)
	}
	v := reflect.New(t)
	if err := json.Unmarshal(f.Message, v.Interface()); err != nil {
		return nil, fmt.Errorf("decode ACS %s: %w", f.Type, err)
	}
	return v.Interface(), nil
}

func isException(name string) bool {
	for _, e := range exceptionTypes {
		if e == name {
			return true
		}
	}
	return false
}

// DecodeRefusal reads the body of a refused upgrade, the bare one-key form
// {"InactiveInstanceException":"text"} (or a frame); nil if it is neither.
func DecodeRefusal(body []byte) *Exception {
	var bare map[string]json.RawMessage
	if json.Unmarshal(body, &bare) == nil && len(bare) == 1 {
		for k, v := range bare {
			var text string
			if isException(k) && json.Unmarshal(v, &text) == nil {
				return &Exception{Type: k, Message: text}
			}
		}
	}
	if m, err := Decode(body); err == nil {
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
	return strings.TrimPrefix(t.String(), "*acs.")
}
