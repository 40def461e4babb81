package ecsws

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/gorilla/websocket"
)

// SigningService is the SigV4 service name of ACS and TCS requests.
const SigningService = "ecs"

// emptyPayloadHash is the SHA-256 of an empty body: the upgrade is a GET.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// amzDate is SigV4's X-Amz-Date layout.
const amzDate = "20060102T150405Z"

// ErrBadSignature is wrapped by Verify's and VerifyFrame's errors when a
// request or frame is unsigned or its signature is not the one the
// credentials make.
var ErrBadSignature = errors.New("SigV4 signature does not verify")

// Keys finds the secret of an access key id, as a server does; ok is false
// for a key it does not know.
type Keys func(accessKeyID string) (secret string, ok bool)

// SignedHeaders are the headers of an upgrade request that carry its SigV4
// signature: Authorization, X-Amz-Date and, with temporary credentials,
// X-Amz-Security-Token.
func SignedHeaders(ctx context.Context, wsURL string, creds aws.CredentialsProvider, region string, now time.Time) (http.Header, error) {
	req, err := sign(ctx, wsURL, emptyPayloadHash, creds, region, now)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := req.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	return h, nil
}

// SignFrame is a frame as TCS takes it from the agent: the header lines of
// a SigV4-signed GET of the session's URL whose body is the frame
// (Authorization, Host, X-Amz-Date, X-Amz-Security-Token), a blank line,
// and the frame.
func SignFrame(ctx context.Context, wsURL string, frame []byte, creds aws.CredentialsProvider, region string, now time.Time) ([]byte, error) {
	sum := sha256.Sum256(frame)
	req, err := sign(ctx, wsURL, hex.EncodeToString(sum[:]), creds, region, now)
	if err != nil {
		return nil, err
	}
	h := http.Header{"Host": {req.URL.Host}}
	for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := req.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	var b bytes.Buffer
	_ = h.Write(&b)
	b.WriteString("\r\n")
	b.Write(frame)
	return b.Bytes(), nil
}

// sign signs a GET of wsURL whose body has the given hash.
func sign(ctx context.Context, wsURL, payloadHash string, creds aws.CredentialsProvider, region string, now time.Time) (*http.Request, error) {
	c, err := creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials to sign the request to %s: %w", redactQuery(wsURL), err)
	}
	req, err := signingRequest(wsURL, nil)
	if err != nil {
		return nil, err
	}
	if err := v4.NewSigner().SignHTTP(ctx, c, req, payloadHash, SigningService, region, now); err != nil {
		return nil, fmt.Errorf("sign the request to %s: %w", redactQuery(wsURL), err)
	}
	return req, nil
}

// signingRequest is the request a signature covers: a GET of the
// websocket URL (whose scheme SigV4 does not see) with only the given
// signing headers, which is also how a server rebuilds it to check one.
func signingRequest(wsURL string, h http.Header) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, wsURL, nil)
	if err != nil {
		return nil, fmt.Errorf("request for %s: %w", redactQuery(wsURL), err)
	}
	for _, k := range []string{"X-Amz-Date", "X-Amz-Security-Token"} {
		if v := h.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	return req, nil
}

// Verify checks an upgrade request's SigV4 signature the way a server
// does: it signs the same request again with the secret of the access key
// it names and compares. It is the fake endpoints' check (hack/fakeecs).
func Verify(r *http.Request, keys Keys, region string) error {
	return verify(r.Header, "ws://"+r.Host+r.URL.RequestURI(), emptyPayloadHash, keys, region)
}

// VerifyFrame checks a signed frame (SignFrame's form) against the URL of
// the session it came on and returns the frame without its header lines.
func VerifyFrame(data []byte, wsURL string, keys Keys, region string) ([]byte, error) {
	head, frame, ok := bytes.Cut(data, []byte("\r\n\r\n"))
	if !ok {
		return nil, fmt.Errorf("%w: the frame has no header lines", ErrBadSignature)
	}
	mh, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(head, "\r\n\r\n"...)))).ReadMIMEHeader()
	if err != nil {
		return nil, fmt.Errorf("%w: header lines: %v", ErrBadSignature, err)
	}
	h := http.Header(mh)
	u, err := url.Parse(wsURL)
	if err != nil {
		return nil, fmt.Errorf("session URL: %w", err)
	}
	if h.Get("Host") != u.Host {
		return nil, fmt.Errorf("%w: Host %q is not the session's %q", ErrBadSignature, h.Get("Host"), u.Host)
	}
	sum := sha256.Sum256(frame)
	if err := verify(h, wsURL, hex.EncodeToString(sum[:]), keys, region); err != nil {
		return nil, err
	}
	return frame, nil
}

func verify(h http.Header, wsURL, payloadHash string, keys Keys, region string) error {
	auth := h.Get("Authorization")
	date, err := time.Parse(amzDate, h.Get("X-Amz-Date"))
	if auth == "" || err != nil {
		return fmt.Errorf("%w: no Authorization or X-Amz-Date header", ErrBadSignature)
	}
	_, rest, _ := strings.Cut(auth, "Credential=")
	key, _, _ := strings.Cut(rest, "/")
	secret, ok := keys(key)
	if !ok {
		return fmt.Errorf("%w: unknown access key %q", ErrBadSignature, key)
	}
	req, err := signingRequest(wsURL, h)
	if err != nil {
		return err
	}
	creds := aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: h.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, SigningService, region, date); err != nil {
		return fmt.Errorf("re-sign the request: %w", err)
	}
	if req.Header.Get("Authorization") != auth {
		return ErrBadSignature
	}
	return nil
}

// redactQuery drops a URL's query for an error message: it names the
// instance and is long, and the URL without it says where.
func redactQuery(u string) string {
	s, _, _ := strings.Cut(u, "?")
	return s
}

// URL is the websocket URL of a session from the endpoint
// DiscoverPollEndpoint named: <endpoint>/ws?<query>, keys sorted and a
// space written "+" (as the ECS agent writes them), http→ws, https→wss.
func URL(endpoint string, q url.Values) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	switch u.Scheme {
	case "https", "wss":
		u.Scheme = "wss"
	case "http", "ws":
		u.Scheme = "ws"
	default:
		return "", fmt.Errorf("endpoint %q: want an http(s) URL", endpoint)
	}
	if u.Host == "" {
		return "", fmt.Errorf("endpoint %q has no host", endpoint)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.Path += "ws"
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Dial opens a session: a GET of wsURL signed with the credentials,
// upgraded to a websocket within handshake (dial, TLS and upgrade), through
// HTTPS_PROXY when set, with TLS 1.2 or newer unless tlsConfig says
// otherwise. A refused upgrade returns the server's response, whose body
// names the exception.
func Dial(ctx context.Context, wsURL string, creds aws.CredentialsProvider, region string, tlsConfig *tls.Config, handshake time.Duration) (*websocket.Conn, *http.Response, error) {
	h, err := SignedHeaders(ctx, wsURL, creds, region, time.Now())
	if err != nil {
		return nil, nil, err
	}
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	d := &websocket.Dialer{HandshakeTimeout: handshake, Proxy: http.ProxyFromEnvironment, TLSClientConfig: tlsConfig}
	ctx, cancel := context.WithTimeout(ctx, handshake)
	defer cancel()
	return d.DialContext(ctx, wsURL, h)
}
