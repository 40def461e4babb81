// Package fakeecr is a test ECR endpoint: it answers GetAuthorizationToken
// in ECR's real wire protocol (AWS JSON 1.1, X-Amz-Target
// AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken), so the real
// aws-sdk-go-v2 ECR client can be pointed at it, and it records the calls
// so a test can ask what the agent asked for.
package fakeecr

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Target is the X-Amz-Target of the one action served.
const Target = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"

// Server is an http.Handler for ECR's GetAuthorizationToken.
type Server struct {
	mu       sync.Mutex
	user     string
	password string
	lifetime time.Duration
	fail     string // error code to answer with, "" for none
	calls    []Call
}

// Call is one GetAuthorizationToken request the server answered.
type Call struct {
	RegistryIDs []string
	// Signed reports whether the request carried a SigV4 Authorization
	// header for the ecr service.
	Signed bool
}

// New returns a server that hands out user:password tokens living
// lifetime (12 hours, as ECR's do, when zero).
func New(user, password string, lifetime time.Duration) *Server {
	if lifetime <= 0 {
		lifetime = 12 * time.Hour
	}
	return &Server{user: user, password: password, lifetime: lifetime}
}

// Fail makes every later call fail with the ECR error code (e.g.
// "AccessDeniedException"); "" heals.
func (s *Server) Fail(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = code
}

// Calls returns the requests answered so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != Target {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("unknown operation %q", r.Header.Get("X-Amz-Target")))
		return
	}
	var in struct {
		RegistryIDs []string `json:"registryIds"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "body is not JSON")
		return
	}
	auth := r.Header.Get("Authorization")
	signed := strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") && strings.Contains(auth, "/ecr/aws4_request")
	s.mu.Lock()
	s.calls = append(s.calls, Call{RegistryIDs: in.RegistryIDs, Signed: signed})
	fail, user, pass, life := s.fail, s.user, s.password, s.lifetime
	s.mu.Unlock()
	if fail != "" {
		writeError(w, http.StatusBadRequest, fail, "injected failure")
		return
	}
	ids := in.RegistryIDs
	if len(ids) == 0 {
		ids = []string{"000000000000"}
	}
	token := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	expires := float64(time.Now().Add(life).UnixMilli()) / 1000
	type data struct {
		AuthorizationToken string  `json:"authorizationToken"`
		ExpiresAt          float64 `json:"expiresAt"`
		ProxyEndpoint      string  `json:"proxyEndpoint"`
	}
	var out struct {
		AuthorizationData []data `json:"authorizationData"`
	}
	region := regionOf(auth)
	for _, id := range ids {
		out.AuthorizationData = append(out.AuthorizationData, data{
			AuthorizationToken: token,
			ExpiresAt:          expires,
			ProxyEndpoint:      fmt.Sprintf("https://%s.dkr.ecr.%s.amazonaws.com", id, region),
		})
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

// regionOf reads the region from a SigV4 credential scope
// (Credential=AKID/20240101/us-east-1/ecr/aws4_request).
func regionOf(auth string) string {
	_, scope, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "us-east-1"
	}
	parts := strings.Split(scope, "/")
	if len(parts) < 3 {
		return "us-east-1"
	}
	return parts[2]
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
