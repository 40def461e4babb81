package taskmetadata

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
)

// fuzzSecretKey is the secret of the one set of role credentials bound.
const fuzzSecretKey = "fuzz-secret-access-key"

// FuzzPaths holds the endpoint to its promises on any path and query: an
// unclean path is redirected once, to a clean one that is not redirected
// again; every other answer is JSON or the router's "404 page not found";
// and the credentials' secret is served only to a request naming their id
// on a credentials path.
func FuzzPaths(f *testing.F) {
	fx := newFixture(f, Limit{Rate: 1e9, Burst: 1e9})
	id := credentials.NewID()
	fx.holder.Bind(id, credentials.Key{TaskARN: "arn:t1", Role: apiv1.RoleTypeTask})
	fx.holder.Put("arn:t1", apiv1.RoleTypeTask, credentials.Credentials{RoleArn: "arn:aws:iam::1:role/app", AccessKeyID: "ASIA1",
		SecretAccessKey: fuzzSecretKey, SessionToken: "tok", Expiration: time.Now().Add(time.Hour)}, apiv1.CredentialsFromSTS)
	for _, seed := range []struct{ path, query string }{
		{"/v4/" + appEID, ""}, {"/v4/" + appEID + "/task", ""}, {"/v4/" + appEID + "/taskWithTags", ""},
		{"/v4/" + sideEID + "/task/stats", ""}, {"/v3/" + appEID + "/stats", ""}, {"/v3/nope", ""}, {"/v4/", ""},
		{"/v2/credentials/" + id, ""}, {"/v1/credentials", "id=" + id}, {"/v2/credentials", ""}, {"/v4//x/../" + appEID, ""},
		{"/v2/credentials/" + id + "/x", ""}, {"/v1/credentials", "id=" + id + "&id=x"}, {"", ""}, {"/v4/%2f", "a=%zz"},
	} {
		f.Add(seed.path, seed.query)
	}
	f.Fuzz(func(t *testing.T, p, rawQuery string) {
		if _, err := url.ParseRequestURI("/?" + rawQuery); err != nil {
			// No server hands a handler this query (a control byte, say):
			// net/http refuses the request line first.
			return
		}
		rec := fuzzGet(fx.handler, p, rawQuery)
		if rec.Code == http.StatusMovedPermanently {
			loc, err := url.Parse(rec.Header().Get("Location")) // as a client reads it
			if err != nil {
				t.Fatalf("%q redirected to an unparsable %q: %v", p, rec.Header().Get("Location"), err)
			}
			clean := path.Clean(loc.Path)
			if strings.HasSuffix(loc.Path, "/") && clean != "/" {
				clean += "/" // kept, as gorilla/mux keeps it
			}
			if loc.Fragment != "" || loc.RawQuery != strings.ReplaceAll(rawQuery, "#", "%23") {
				t.Fatalf("%q?%s redirected to %q, which loses or changes the query", p, rawQuery, rec.Header().Get("Location"))
			}
			if clean != loc.Path {
				t.Fatalf("%q redirected to unclean %q", p, loc.Path)
			}
			if again := fuzzGet(fx.handler, loc.Path, loc.RawQuery); again.Code == http.StatusMovedPermanently {
				t.Fatalf("%q redirected to %q, which redirects again to %q", p, loc.Path, again.Header().Get("Location"))
			}
			return
		}
		body := rec.Body.Bytes()
		if rec.Code == http.StatusNotFound && string(body) == "404 page not found\n" {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("%q?%s = %d with a body that is not JSON: %q", p, rawQuery, rec.Code, body)
		}
		if strings.Contains(string(body), fuzzSecretKey) {
			q, _ := url.ParseQuery(rawQuery)
			if p != "/v2/credentials/"+id && (p != "/v1/credentials" || q.Get("id") != id) {
				t.Fatalf("%q?%s serves the credentials' secret", p, rawQuery)
			}
		}
	})
}

// fuzzGet answers one GET from a task's address without a network; the
// URL is set after parsing, since a fuzzed path need not parse.
func fuzzGet(h http.Handler, p, rawQuery string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, &http.Request{Method: http.MethodGet, URL: &url.URL{Path: p, RawQuery: rawQuery},
		Header: http.Header{}, RemoteAddr: "172.17.0.5:40000"})
	return rec
}
