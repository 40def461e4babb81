package acs

import "github.com/ecs-agent/ecs-agent/internal/ecsws"

// A frame is one websocket text message: {"type":T,"message":{…}}, T the
// model's shape name. codec knows every shape that travels in a frame,
// either way; the exception shapes travel as ServerException (and the
// others of exceptionTypes).
var codec = ecsws.NewCodec("ACS", []any{
	PayloadMessage{}, IAMRoleCredentialsMessage{}, HeartbeatMessage{}, TaskManifestMessage{},
	TaskStopVerificationAck{}, CloseMessage{}, ErrorMessage{},
	AckRequest{}, HeartbeatAckRequest{}, IAMRoleCredentialsAckRequest{}, TaskStopVerificationMessage{}, NackRequest{},
}, exceptionTypes)

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
type Exception = ecsws.Exception

// ErrUnknownType is wrapped by Decode for a frame whose type this agent does
// not know (attachments, updates, …): dropped, not activity.
var ErrUnknownType = ecsws.ErrUnknownType

// Encode writes msg (a pointer to or value of one of the message types) as
// a frame.
func Encode(msg any) ([]byte, error) { return codec.Encode(msg) }

// Decode reads a frame into a pointer to its message type (*PayloadMessage,
// …, or *Exception). A frame of a type it does not know gives an error
// wrapping ErrUnknownType.
func Decode(data []byte) (any, error) { return codec.Decode(data) }

// DecodeRefusal reads the body of a refused upgrade, the bare one-key form
// {"InactiveInstanceException":"text"} (or a frame); nil if it is neither.
func DecodeRefusal(body []byte) *Exception { return codec.DecodeRefusal(body) }

// EncodeRefusal is the body of a refused upgrade: {"<Type>":"<message>"}.
func EncodeRefusal(ex *Exception) []byte { return ecsws.EncodeRefusal(ex) }

// TypeName is the frame type of a message, for logs and metrics.
func TypeName(msg any) string { return ecsws.TypeName(msg) }
