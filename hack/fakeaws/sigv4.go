package fakeaws

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// sigV4 is what a request's SigV4 Authorization header says.
type sigV4 struct {
	accessKey     string
	date          string // yyyymmdd of the credential scope
	region        string
	service       string
	signedHeaders []string
	signature     string
}

// maxSkew is how far a request's X-Amz-Date may be from the server's
// clock, as AWS allows.
const maxSkew = 15 * time.Minute

// authError is a refusal before any action runs; code is the query
// protocol's (STS), jsonCode the JSON protocol's.
type authError struct {
	status         int
	code, jsonCode string
	msg            string
}

func (e *authError) Error() string { return e.code + ": " + e.msg }

var (
	errUnsigned = &authError{http.StatusForbidden, "MissingAuthenticationToken", "MissingAuthenticationTokenException",
		"Request is missing Authentication Token"}
	errUnknownKey = &authError{http.StatusForbidden, "InvalidClientTokenId", "UnrecognizedClientException",
		"The security token included in the request is invalid."}
	errBadSignature = &authError{http.StatusForbidden, "SignatureDoesNotMatch", "InvalidSignatureException",
		"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
	errExpired = &authError{http.StatusForbidden, "ExpiredToken", "ExpiredTokenException",
		"The security token included in the request is expired"}
	errSkew = &authError{http.StatusForbidden, "SignatureDoesNotMatch", "InvalidSignatureException",
		"Signature expired: the request's X-Amz-Date is more than 15 minutes from the server's time."}
)

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=AKID/20240101/
// us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=…".
func parseAuthorization(h string) (sigV4, bool) {
	rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !ok {
		return sigV4{}, false
	}
	var s sigV4
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return sigV4{}, false
			}
			s.accessKey, s.date, s.region, s.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			s.signedHeaders = strings.Split(v, ";")
		case "Signature":
			s.signature = v
		}
	}
	return s, s.accessKey != "" && s.signature != "" && len(s.signedHeaders) > 0
}

// verify checks r's signature with secret, recomputing it from the request
// as received (AWS Signature Version 4, "Create a signed AWS API request").
func (s sigV4) verify(r *http.Request, body []byte, secret string, now time.Time) error {
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || !strings.HasPrefix(amzDate, s.date) {
		return errBadSignature
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return errSkew
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	var canon bytes.Buffer
	canon.WriteString(r.Method + "\n")
	canon.WriteString(escapePath(r.URL.EscapedPath()) + "\n")
	canon.WriteString(canonicalQuery(r.URL.Query()) + "\n")
	for _, h := range s.signedHeaders {
		canon.WriteString(h + ":" + headerValue(r, h) + "\n")
	}
	canon.WriteString("\n" + strings.Join(s.signedHeaders, ";") + "\n" + payload)

	scope := strings.Join([]string{s.date, s.region, s.service, "aws4_request"}, "/")
	sum := sha256.Sum256(canon.Bytes())
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + secret)
	for _, part := range []string{s.date, s.region, s.service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(s.signature)) {
		return errBadSignature
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// headerValue is a signed header's canonical value: the values joined by
// commas, each trimmed, inner runs of spaces made one.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = []string{fmt.Sprint(r.ContentLength)}
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// canonicalQuery sorts the parameters by name and value, each encoded as
// RFC 3986 says (spaces as %20, not +).
func canonicalQuery(q url.Values) string {
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, escape(k)+"="+escape(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// escapePath encodes an already escaped path once more, as SigV4 does for
// every service but S3.
func escapePath(p string) string {
	if p == "" {
		return "/"
	}
	var b strings.Builder
	for _, seg := range strings.SplitAfter(p, "/") {
		name, slash := strings.CutSuffix(seg, "/")
		b.WriteString(escape(name))
		if slash {
			b.WriteString("/")
		}
	}
	return b.String()
}
