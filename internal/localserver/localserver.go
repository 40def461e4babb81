// Package localserver holds what every HTTP server the agent runs on the
// host shares: timeouts that keep a slow or idle client from holding a
// connection, a cap on header size, and a Host check against DNS
// rebinding (a web page whose name resolves to 127.0.0.1 must not reach
// the agent's API from a browser on this host).
package localserver

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// Limits every server of the agent applies.
const (
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds reading a whole request; the agent's requests
	// have no bodies to speak of.
	ReadTimeout = 10 * time.Second
	// WriteTimeout bounds writing an answer. A stream (the agent API's
	// watch) extends its own deadline with each write instead, by
	// StreamWriteTimeout, so a client that stops reading is dropped.
	WriteTimeout       = 30 * time.Second
	StreamWriteTimeout = 10 * time.Second
	IdleTimeout        = 60 * time.Second
	MaxHeaderBytes     = 16 << 10
)

// New returns an http.Server for handler with the agent's limits, behind
// the Host check.
func New(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           CheckHost(handler),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
}

// CheckHost answers 421 Misdirected Request to a request whose Host is a
// name other than localhost. An IP literal (127.0.0.1, 169.254.170.2, the
// host's own address) is what every legitimate client sends; a DNS name is
// what a rebinding attack has to send.
func CheckHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowedHost(r.Host) {
			http.Error(w, "misdirected request: the agent answers requests for localhost or an IP address only, not for host "+quoteHost(r.Host), http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func allowedHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	return net.ParseIP(host) != nil
}

// quoteHost keeps a hostile Host header short in the answer.
func quoteHost(h string) string {
	if len(h) > 64 {
		h = h[:64] + "…"
	}
	return "\"" + h + "\""
}

// ExtendWrite moves a streaming answer's write deadline StreamWriteTimeout
// ahead; call it before each write of a stream.
func ExtendWrite(rc *http.ResponseController) error {
	return rc.SetWriteDeadline(time.Now().Add(StreamWriteTimeout))
}
