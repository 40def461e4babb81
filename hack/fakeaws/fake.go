// Package fakeaws is a test AWS for the agent's task roles and secrets:
// STS (AssumeRole, GetCallerIdentity, in the query protocol), SSM
// Parameter Store (GetParameters, GetParameter) and Secrets Manager
// (GetSecretValue), both in AWS JSON 1.1, on one http.Handler. The real
// aws-sdk-go-v2 clients talk to it unchanged: point AWS_ENDPOINT_URL_STS,
// AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL_SECRETS_MANAGER at one URL;
// requests are routed by the service their signature is scoped to.
//
// It refuses what AWS would: a request without a SigV4 signature, signed
// by an unknown key or with the wrong secret, more than 15 minutes off the
// clock, or with an expired session; an AssumeRole of a role that does not
// exist or does not trust the caller; a read of a parameter or secret the
// caller may not read, or that does not exist. Session credentials that
// AssumeRole hands out are valid for every service, so a test can follow
// a role from STS to the secrets it reads.
//
// It is test tooling only: nothing in the agent imports it.
package fakeaws

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Account is the account every ARN of the fake belongs to.
const Account = "123456789012"

// Options configures a Fake.
type Options struct {
	// Lifetime, when set, is how long AssumeRole's credentials live,
	// whatever the caller asked (STS's minimum of 15 minutes is not
	// enforced, so a test can watch a refresh).
	Lifetime time.Duration
	// Now replaces the clock (tests of expiry).
	Now func() time.Time
	// Region is the region in the ARNs of parameters and secrets;
	// us-east-1 when empty.
	Region string
}

// Fake is the endpoint's state. It is safe for concurrent use.
type Fake struct {
	opts Options

	mu       sync.Mutex
	keys     map[string]*key // access key id → key
	roles    map[string]*role
	params   map[string]*Parameter // by name
	secrets  map[string]*Secret    // by full ARN
	calls    []Call
	failNext map[string]string // action → error code for its next call
	held     map[string]int    // action → Hold calls not yet released
}

// key is an access key the fake accepts: a user's long-term key or a
// session AssumeRole handed out.
type key struct {
	secret, token string
	expires       time.Time // zero for a user's key
	principal     string    // the caller's ARN
	role          string    // the assumed role's ARN; "" for a user
	userID        string
}

type role struct {
	arn string
	// trusts are the principals (user ARNs) that may assume it; empty
	// means every user of the fake.
	trusts []string
}

// Call is one request the fake answered (or refused).
type Call struct {
	Service, Action string
	// Principal is the signer's ARN; "" for an unsigned or refused one.
	Principal string
	// Error is the error code answered, "" for success.
	Error string
}

// New returns an empty fake.
func New(opts Options) *Fake {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Fake{
		opts: opts, keys: map[string]*key{}, roles: map[string]*role{},
		params: map[string]*Parameter{}, secrets: map[string]*Secret{}, failNext: map[string]string{},
		held: map[string]int{},
	}
}

// AddUser accepts a long-term access key for the IAM user name (the
// agent's own credentials) and returns the user's ARN.
func (f *Fake) AddUser(name, accessKeyID, secretAccessKey string) string {
	arn := fmt.Sprintf("arn:aws:iam::%s:user/%s", Account, name)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[accessKeyID] = &key{secret: secretAccessKey, principal: arn, userID: "AIDA" + strings.ToUpper(randomHex(8))}
	return arn
}

// AddRole creates the role name, assumable by the users whose ARNs are
// given (by every user when none is), and returns its ARN.
func (f *Fake) AddRole(name string, trusted ...string) string {
	arn := fmt.Sprintf("arn:aws:iam::%s:role/%s", Account, name)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roles[arn] = &role{arn: arn, trusts: trusted}
	return arn
}

// FailNext makes the next call of action ("AssumeRole", "GetParameters",
// "GetSecretValue", …) fail with the error code.
func (f *Fake) FailNext(action, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext[action] = code
}

// Calls returns the requests answered so far.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// CallsOf counts the calls of one action that succeeded.
func (f *Fake) CallsOf(action string) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Action == action && c.Error == "" {
			n++
		}
	}
	return n
}

func (f *Fake) region() string {
	if f.opts.Region == "" {
		return "us-east-1"
	}
	return f.opts.Region
}

// caller is who signed a request.
type caller struct {
	principal, role, userID, accessKey string
}

// ServeHTTP implements http.Handler: it checks the signature and routes
// by the signature's service.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	svc, target := service(r)
	who, aerr := f.authenticate(r, body)
	if aerr != nil {
		f.record(Call{Service: svc, Action: target, Error: aerr.code})
		if svc == "sts" {
			writeQueryError(w, aerr.status, aerr.code, aerr.msg)
		} else {
			writeJSONError(w, http.StatusBadRequest, aerr.jsonCode, aerr.msg)
		}
		return
	}
	switch svc {
	case "sts":
		f.serveSTS(w, r, who)
	case "ssm":
		f.serveSSM(w, r, body, who)
	case "secretsmanager":
		f.serveSecretsManager(w, r, body, who)
	default:
		writeJSONError(w, http.StatusBadRequest, "UnknownOperationException", "this fake serves sts, ssm and secretsmanager, not "+svc)
	}
}

// service is the service a request is for: from its signature's scope, or
// from how it looks when it carries none.
func service(r *http.Request) (svc, target string) {
	if s, ok := parseAuthorization(r.Header.Get("Authorization")); ok {
		svc = s.service
	}
	target = r.Header.Get("X-Amz-Target")
	switch {
	case svc != "":
	case strings.HasPrefix(target, "AmazonSSM."):
		svc = "ssm"
	case strings.HasPrefix(target, "secretsmanager."):
		svc = "secretsmanager"
	default:
		svc = "sts"
	}
	if _, action, ok := strings.Cut(target, "."); ok {
		target = action
	}
	return svc, target
}

func (f *Fake) authenticate(r *http.Request, body []byte) (caller, *authError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return caller{}, errUnsigned
	}
	sig, ok := parseAuthorization(auth)
	if !ok {
		return caller{}, &authError{http.StatusBadRequest, "IncompleteSignature", "IncompleteSignatureException", "Authorization header is not a SigV4 signature"}
	}
	f.mu.Lock()
	k, known := f.keys[sig.accessKey]
	f.mu.Unlock()
	if !known {
		return caller{}, errUnknownKey
	}
	now := f.opts.Now()
	if k.token != "" && r.Header.Get("X-Amz-Security-Token") != k.token {
		return caller{}, errUnknownKey
	}
	if err := sig.verify(r, body, k.secret, now); err != nil {
		return caller{}, err.(*authError)
	}
	if !k.expires.IsZero() && !now.Before(k.expires) {
		return caller{}, errExpired
	}
	return caller{principal: k.principal, role: k.role, userID: k.userID, accessKey: sig.accessKey}, nil
}

func (f *Fake) record(c Call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

// injected returns the error code FailNext set for action, once, or
// ServiceUnavailable while the action is held.
func (f *Fake) injected(action string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held[action] > 0 {
		return "ServiceUnavailable"
	}
	code := f.failNext[action]
	delete(f.failNext, action)
	return code
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	if code == "ServiceUnavailable" {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("X-Amzn-RequestId", randomHex(16))
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
}

// Hold makes every call of action fail with STS's and the JSON services'
// ServiceUnavailable (a 503 the SDKs retry) until the returned release is
// called: an endpoint that is down for a while.
func (f *Fake) Hold(action string) (release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held[action]++
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.held[action]--
	}
}
