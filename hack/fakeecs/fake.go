// Package fakeecs is a test Amazon ECS endpoint: an http.Handler that speaks the real awsJson1_1
// wire protocol of the ECS API (POST /, X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Action>)
// to the real aws-sdk-go-v2 ECS client, keeps clusters, task definitions, container instances and
// tasks in memory, records every SubmitTaskStateChange / SubmitContainerStateChange in order so a
// test can ask what the agent reported, and injects throttling, server errors and latency.
//
// It also speaks ACS, the websocket through which ECS pushes tasks (acs.go): DiscoverPollEndpoint
// names the fake itself, and placing or stopping a task pushes it to the instance's session.
//
// It is test and demo tooling only: nothing in the agent's production path imports it. It checks
// SigV4 signatures only on the ACS upgrade.
package fakeecs

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-agent/ecs-agent/internal/ecswire"
)

// TargetPrefix is the X-Amz-Target prefix of the ECS API (the Smithy service shape name).
const TargetPrefix = "AmazonEC2ContainerServiceV20141113."

// Error codes the fake answers with; the aws-sdk-go-v2 client decodes the modelled ones into
// types.ClusterNotFoundException, types.InvalidParameterException, types.ClientException and
// types.ServerException, and ThrottlingException into a smithy.GenericAPIError its retryer treats
// as throttling.
const (
	CodeClusterNotFound   = "ClusterNotFoundException"
	CodeInvalidParameter  = "InvalidParameterException"
	CodeClient            = "ClientException"
	CodeServer            = "ServerException"
	CodeThrottling        = "ThrottlingException"
	CodeUnknownOperation  = "UnknownOperationException"
	CodeSerialization     = "SerializationException"
	defaultAccountID      = "123456789012"
	defaultRegion         = "us-west-2"
	defaultClusterName    = "default"
	maxListResults        = 100
	defaultListTaskResult = 100
)

// Options configures a Fake.
type Options struct {
	// Region goes into every ARN; default us-west-2.
	Region string
	// AccountID goes into every ARN; default 123456789012.
	AccountID string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// NoACS makes the fake an ECS-compatible endpoint without ACS (as moto or LocalStack):
	// DiscoverPollEndpoint names a URL that answers 404, and no instance is ever connected.
	NoACS bool
	// Credentials are access key ids and their secret keys that may sign an ACS upgrade, beside
	// DefaultAccessKeyID.
	Credentials map[string]string
	// ACSHeartbeat is how often a session gets a HeartbeatMessage; default DefaultHeartbeat.
	ACSHeartbeat time.Duration
}

// Fake is the in-memory ECS endpoint. The zero value is not usable: call New. It is safe for
// concurrent use.
type Fake struct {
	region, account string
	now             func() time.Time

	mu         sync.Mutex
	clusters   map[string]*types.Cluster // by name
	clusterSeq []string
	taskDefs   map[string][]*taskDef // by family, index = revision-1
	families   []string
	instances  map[string]*types.ContainerInstance // by ARN
	instSeq    []string
	tasks      map[string]*types.Task // by ARN
	// unlisted makes ListTasks leave a task out of its next n answers
	// that would hold it (ListTasks is eventually consistent).
	unlisted map[string]int
	taskSeq  []string
	rr       map[string]int // RunTask round-robin cursor per cluster
	reports  []Report
	faults   []*Fault
	faultSeq int
	calls    map[string]int
	acs      acsState
	tcs      tcsState
}

type taskDef struct {
	def  types.TaskDefinition
	tags []types.Tag
}

// New returns an empty Fake.
func New(opts Options) *Fake {
	if opts.Region == "" {
		opts.Region = defaultRegion
	}
	if opts.AccountID == "" {
		opts.AccountID = defaultAccountID
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Fake{
		region:    opts.Region,
		account:   opts.AccountID,
		now:       opts.Now,
		clusters:  map[string]*types.Cluster{},
		taskDefs:  map[string][]*taskDef{},
		instances: map[string]*types.ContainerInstance{},
		tasks:     map[string]*types.Task{},
		rr:        map[string]int{},
		calls:     map[string]int{},
		acs:       newACSState(opts),
		tcs:       newTCSState(),
	}
}

// Region is the region in the fake's ARNs.
func (f *Fake) Region() string { return f.region }

// apiError is an error answered on the wire as {"__type": Code, "message": Message}.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errInvalid(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: CodeInvalidParameter, Message: fmt.Sprintf(format, args...)}
}

func errClient(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: CodeClient, Message: fmt.Sprintf(format, args...)}
}

func errClusterNotFound() *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: CodeClusterNotFound, Message: "Cluster not found."}
}

// action is one API operation: it reads its input from the request body and returns its output.
type action func(f *Fake, body []byte) (any, error)

// op makes the action of an operation's handler: it decodes the handler's input (a malformed body
// is the caller's error) and runs the handler under f.mu.
func op[In any](handle func(f *Fake, in *In) (any, error)) action {
	return func(f *Fake, body []byte) (any, error) {
		var in In
		if err := ecswire.Unmarshal(body, &in); err != nil {
			return nil, &apiError{Status: http.StatusBadRequest, Code: CodeSerialization, Message: err.Error()}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return handle(f, &in)
	}
}

// ServeHTTP serves the ECS API on POST / and the admin API under /_fake/.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if f.acs.endpoint == "" {
		// Served without Server (httptest): the fake's URL is the one it is reached at.
		f.acs.endpoint = "http://" + r.Host
	}
	f.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/_fake/"):
		f.serveAdmin(w, r)
		return
	case r.URL.Path == ACSPath && !f.acs.off:
		f.serveACS(w, r)
		return
	case isTCSPath(r.URL.Path) && !f.acs.off:
		f.serveTCS(w, r)
		return
	case strings.HasPrefix(r.URL.Path, noACSPath):
		http.NotFound(w, r)
		return
	}
	requestID := newID()
	w.Header().Set("x-amzn-RequestId", requestID)
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || !strings.HasPrefix(target, TargetPrefix) {
		writeError(w, &apiError{Status: http.StatusBadRequest, Code: CodeUnknownOperation,
			Message: fmt.Sprintf("want POST with X-Amz-Target %s<Action>, got %s %q", TargetPrefix, r.Method, target)})
		return
	}
	name := strings.TrimPrefix(target, TargetPrefix)
	f.countCall(name)
	if err := f.applyFaults(r.Context(), name); err != nil {
		writeError(w, err)
		return
	}
	act, ok := actions[name]
	if !ok {
		writeError(w, &apiError{Status: http.StatusBadRequest, Code: CodeUnknownOperation,
			Message: "the fake ECS endpoint does not implement " + name})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, &apiError{Status: http.StatusBadRequest, Code: CodeSerialization, Message: err.Error()})
		return
	}
	out, err := act(f, body)
	if err != nil {
		writeError(w, err)
		return
	}
	b, err := ecswire.Marshal(out)
	if err != nil {
		writeError(w, &apiError{Status: http.StatusInternalServerError, Code: CodeServer, Message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, err error) {
	ae, ok := err.(*apiError)
	if !ok {
		ae = &apiError{Status: http.StatusInternalServerError, Code: CodeServer, Message: err.Error()}
	}
	b, _ := marshalJSON(map[string]string{"__type": ae.Code, "message": ae.Message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-ErrorType", ae.Code)
	w.WriteHeader(ae.Status)
	_, _ = w.Write(b)
}

// newID is 32 lowercase hex digits, the form of ECS task and container instance ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newUUID is a random RFC 4122 version 4 UUID, the form of ECS container ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (f *Fake) arn(resource string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:%s", f.region, f.account, resource)
}

// lastSegment is the part of an ARN or name after its last "/" (a task id from a task ARN).
func lastSegment(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
