// Package fakeimds is a test EC2 instance metadata service: an http.Handler implementing the
// IMDSv2 paths that aws-sdk-go-v2's feature/ec2/imds client and its EC2 role credentials provider
// use. Point the SDK at it with AWS_EC2_METADATA_SERVICE_ENDPOINT (or imds.Options.Endpoint).
//
// It is test and demo tooling only: nothing in the agent's production path imports it.
package fakeimds

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// IMDSv2 header names (EC2 User Guide, "Use IMDSv2").
const (
	TokenHeader    = "X-aws-ec2-metadata-token"
	TokenTTLHeader = "X-aws-ec2-metadata-token-ttl-seconds"
	maxTokenTTL    = 21600
)

// Document is the instance identity document, with the JSON names EC2 uses.
type Document struct {
	AccountID        string    `json:"accountId"`
	Architecture     string    `json:"architecture"`
	AvailabilityZone string    `json:"availabilityZone"`
	ImageID          string    `json:"imageId"`
	InstanceID       string    `json:"instanceId"`
	InstanceType     string    `json:"instanceType"`
	PendingTime      time.Time `json:"pendingTime"`
	PrivateIP        string    `json:"privateIp"`
	Region           string    `json:"region"`
	Version          string    `json:"version"`
}

// Role is an instance profile role whose credentials the fake serves under
// /latest/meta-data/iam/security-credentials/<Name>.
type Role struct {
	Name            string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// Options configures a Fake. Zero fields get plausible defaults (us-west-2, i-0123456789abcdef0).
type Options struct {
	Document Document
	// Signature is served as the document's signature; default a fixed base64 string.
	Signature string
	// Role, when set, is served as the instance profile's credentials.
	Role *Role
}

// Fake is the instance metadata service. It is safe for concurrent use.
type Fake struct {
	doc       Document
	signature string
	role      *Role

	mu       sync.Mutex
	tokens   map[string]time.Time // token → expiry
	requests map[string]int       // path → count
	rejected int
}

// New returns a Fake serving opts.
func New(opts Options) *Fake {
	d := opts.Document
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&d.Region, "us-west-2")
	def(&d.AvailabilityZone, d.Region+"a")
	def(&d.InstanceID, "i-0123456789abcdef0")
	def(&d.AccountID, "123456789012")
	def(&d.InstanceType, "m5.large")
	def(&d.ImageID, "ami-0abcdef1234567890")
	def(&d.PrivateIP, "10.0.0.10")
	def(&d.Architecture, "x86_64")
	def(&d.Version, "2017-09-30")
	if d.PendingTime.IsZero() {
		d.PendingTime = time.Now().UTC().Truncate(time.Second)
	}
	if opts.Signature == "" {
		opts.Signature = "ZmFrZS1pbnN0YW5jZS1pZGVudGl0eS1zaWduYXR1cmU="
	}
	return &Fake{doc: d, signature: opts.Signature, role: opts.Role, tokens: map[string]time.Time{}, requests: map[string]int{}}
}

// Document returns the identity document the fake serves.
func (f *Fake) Document() Document { return f.doc }

// Requests returns how many requests each path received (token PUTs under /latest/api/token).
func (f *Fake) Requests() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.requests)
}

// Rejected returns how many requests were refused for a missing, unknown or expired token.
func (f *Fake) Rejected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rejected
}

// ServeHTTP serves IMDSv2.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests[r.URL.Path]++
	f.mu.Unlock()
	if r.URL.Path == "/latest/api/token" {
		f.serveToken(w, r)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !f.validToken(r.Header.Get(TokenHeader)) {
		f.mu.Lock()
		f.rejected++
		f.mu.Unlock()
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	body, ok := f.lookup(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(body))
}

func (f *Fake) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get(TokenTTLHeader))
	if err != nil || ttl < 1 || ttl > maxTokenTTL {
		http.Error(w, "Bad Request: "+TokenTTLHeader+" must be 1 to 21600", http.StatusBadRequest)
		return
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	f.mu.Lock()
	f.tokens[tok] = time.Now().Add(time.Duration(ttl) * time.Second)
	f.mu.Unlock()
	w.Header().Set(TokenTTLHeader, strconv.Itoa(ttl))
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(tok))
}

func (f *Fake) validToken(tok string) bool {
	if tok == "" {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	exp, ok := f.tokens[tok]
	return ok && time.Now().Before(exp)
}

// lookup returns the body served at a metadata path.
func (f *Fake) lookup(path string) (string, bool) {
	d := f.doc
	switch path {
	case "/latest/dynamic/instance-identity/document":
		b, _ := json.MarshalIndent(d, "", "  ")
		return string(b), true
	case "/latest/dynamic/instance-identity/signature":
		return f.signature, true
	case "/latest/meta-data/placement/region":
		return d.Region, true
	case "/latest/meta-data/placement/availability-zone":
		return d.AvailabilityZone, true
	case "/latest/meta-data/instance-id":
		return d.InstanceID, true
	case "/latest/meta-data/instance-type":
		return d.InstanceType, true
	case "/latest/meta-data/local-ipv4":
		return d.PrivateIP, true
	case "/latest/meta-data/ami-id":
		return d.ImageID, true
	}
	if f.role == nil {
		return "", false
	}
	const creds = "/latest/meta-data/iam/security-credentials/"
	switch {
	case path == creds:
		return f.role.Name, true
	case path == creds+f.role.Name:
		return f.roleCredentials(), true
	case path == "/latest/meta-data/iam/info":
		b, _ := json.Marshal(map[string]string{"Code": "Success", "LastUpdated": time.Now().UTC().Format(time.RFC3339),
			"InstanceProfileArn": "arn:aws:iam::" + d.AccountID + ":instance-profile/" + f.role.Name,
			"InstanceProfileId":  "AIPA" + strings.ToUpper(hex.EncodeToString([]byte(f.role.Name)))[:min(16, 2*len(f.role.Name))]})
		return string(b), true
	}
	return "", false
}

func (f *Fake) roleCredentials() string {
	exp := f.role.Expiration
	if exp.IsZero() {
		exp = time.Now().Add(6 * time.Hour)
	}
	b, _ := json.MarshalIndent(map[string]string{
		"Code": "Success", "LastUpdated": time.Now().UTC().Format(time.RFC3339), "Type": "AWS-HMAC",
		"AccessKeyId": f.role.AccessKeyID, "SecretAccessKey": f.role.SecretAccessKey,
		"Token": f.role.SessionToken, "Expiration": exp.UTC().Format(time.RFC3339),
	}, "", "  ")
	return string(b)
}
