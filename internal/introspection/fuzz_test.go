package introspection

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// fuzzSecret is the value of the secret task's environment, labels and log
// options: no answer may show it.
const fuzzSecret = "hunter2-fuzz"

// serveOnce answers one GET of path and raw query without a network.
func serveOnce(h http.Handler, path, rawQuery string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.URL.Path, req.URL.RawPath, req.URL.RawQuery = path, "", rawQuery
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// FuzzTasksQuery holds /v1/tasks?dockerid=&taskarn= to the ECS agent's
// answers on any query: 400 for both or an ambiguous short id, 404 for no
// match, 200 with the one task otherwise (every task with neither), always
// a JSON body, never a hidden value.
func FuzzTasksQuery(f *testing.F) {
	for _, q := range []string{
		"", "dockerid=" + webID, "dockerid=aaaaaaaaaaaa", "dockerid=a", "dockerid=abbbbbbbbbbb",
		"taskarn=" + url.QueryEscape(webArn), "taskarn=" + otherArn, "dockerid=" + webID + "&taskarn=" + otherArn,
		"dockerid=&taskarn=x", "dockerid=%zz", "dockerid=a;b", "taskarn=x&taskarn=" + webArn,
	} {
		f.Add(q)
	}
	s := fixture(f)
	create(f, s, secretTask("secret", fuzzSecret))
	h := New(Options{Store: s}).Handler()
	f.Fuzz(func(t *testing.T, rawQuery string) {
		rec := serveOnce(h, TasksPath, rawQuery)
		body := rec.Body.String()
		if strings.Contains(body, fuzzSecret) {
			t.Fatalf("?%s shows a hidden value: %s", rawQuery, body)
		}
		var resp map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("?%s: %d with a body that is not a JSON object: %q", rawQuery, rec.Code, body)
		}
		if want := expectedTasksCode(rawQuery); rec.Code != want {
			t.Fatalf("?%s = %d, want %d: %s", rawQuery, rec.Code, want, body)
		}
	})
}

// expectedTasksCode is the status the ECS agent gives the query against the
// fixture's tasks and the secret task.
func expectedTasksCode(rawQuery string) int {
	q, _ := url.ParseQuery(rawQuery)
	first := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	id, arn := first("dockerid"), first("taskarn")
	switch {
	case id != "" && arn != "":
		return http.StatusBadRequest
	case id != "":
		tasks := 0
		for _, ids := range [][]string{{webID, sideID}, {otherID}} {
			for _, c := range ids {
				if c == id || (len(id) <= dockerShortIDLen && strings.HasPrefix(c, id)) {
					tasks++
					break
				}
			}
		}
		switch tasks {
		case 0:
			return http.StatusNotFound
		case 1:
			return http.StatusOK
		}
		return http.StatusBadRequest
	case arn != "":
		if arn == webArn || arn == otherArn || arn == "arn:aws:ecs:local:000000000000:task/default/secret" {
			return http.StatusOK
		}
		return http.StatusNotFound
	}
	return http.StatusOK
}

// FuzzAgentAPIQuery holds /agent/v1/<resource>?involvedKind=&involvedName=
// to its promises on any resource name and query (watches aside): 200 with
// a JSON list or object, whose events all match the filter, or 404 naming
// the resources served, or a redirect to the clean path; never a hidden
// value.
func FuzzAgentAPIQuery(f *testing.F) {
	for _, seed := range []struct{ resource, query string }{
		{"tasks", ""}, {"events", "involvedKind=Task&involvedName=secret"}, {"events", "involvedName=a&involvedName=b"},
		{"Event", "involvedKind="}, {"tasks/secret", ""}, {"images", "watch=false"}, {"nope", ""}, {"tasks/../events", ""},
	} {
		f.Add(seed.resource, seed.query)
	}
	s := fixture(f)
	create(f, s, secretTask("secret", fuzzSecret))
	for i, name := range []string{"secret", "0123456789abcdef0123456789abcdef"} {
		create(f, s, &apiv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "ev" + strconv.Itoa(i)},
			InvolvedKind: "Task", InvolvedName: name, Type: "Normal", Reason: "Started", Message: "started"})
	}
	h := New(Options{Store: s}).Handler()
	f.Fuzz(func(t *testing.T, resource, rawQuery string) {
		q, _ := url.ParseQuery(rawQuery)
		if watch, _ := strconv.ParseBool(q.Get("watch")); watch {
			return // a stream; TestWatchStreamsCurrentObjectsThenChanges covers it
		}
		rec := serveOnce(h, AgentAPIPrefix+resource, rawQuery)
		body := rec.Body.Bytes()
		if strings.Contains(string(body), fuzzSecret) {
			t.Fatalf("%s?%s shows a hidden value: %s", resource, rawQuery, body)
		}
		switch rec.Code {
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusNotFound:
			return
		case http.StatusOK:
		default:
			t.Fatalf("%s?%s = %d: %s", resource, rawQuery, rec.Code, body)
		}
		var list struct {
			Kind  string            `json:"kind"`
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatalf("%s?%s: 200 with a body that is not JSON: %q", resource, rawQuery, body)
		}
		if list.Kind != "EventList" {
			return
		}
		filter := EventFilter{InvolvedKind: q.Get("involvedKind"), InvolvedNames: q["involvedName"]}
		for _, raw := range list.Items {
			var ev apiv1.Event
			if err := json.Unmarshal(raw, &ev); err != nil || !filter.Match(&ev) {
				t.Fatalf("%s?%s lists event %s, which the filter %+v does not match", resource, rawQuery, raw, filter)
			}
		}
	})
}
