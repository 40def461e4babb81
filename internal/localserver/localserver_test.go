package localserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHostCheckRefusesNamesButLocalhost(t *testing.T) {
	h := CheckHost(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	for host, want := range map[string]int{
		"127.0.0.1:51678":        http.StatusOK,
		"localhost:51678":        http.StatusOK,
		"LOCALHOST":              http.StatusOK,
		"[::1]:51678":            http.StatusOK,
		"169.254.170.2":          http.StatusOK,
		"10.0.0.5:51678":         http.StatusOK,
		"evil.example:51678":     http.StatusMisdirectedRequest,
		"localhost.evil.example": http.StatusMisdirectedRequest,
		"":                       http.StatusMisdirectedRequest,
	} {
		r := httptest.NewRequest(http.MethodGet, "/v1/metadata", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %q: %d, want %d", host, w.Code, want)
		}
	}
}

func TestNewSetsEveryLimit(t *testing.T) {
	s := New(http.NotFoundHandler())
	if s.ReadHeaderTimeout == 0 || s.ReadTimeout == 0 || s.WriteTimeout == 0 || s.IdleTimeout == 0 || s.MaxHeaderBytes == 0 {
		t.Fatalf("server limits not all set: %+v", s)
	}
}
