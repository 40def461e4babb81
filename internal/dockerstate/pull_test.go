package dockerstate

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"iter"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/jsonstream"
)

// stream decodes newline-separated JSON messages as the daemon sends them.
func stream(t *testing.T, lines ...string) iter.Seq2[jsonstream.Message, error] {
	t.Helper()
	return func(yield func(jsonstream.Message, error) bool) {
		for _, l := range lines {
			var m jsonstream.Message
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("bad test line %s: %v", l, err)
			}
			if !yield(m, nil) {
				return
			}
		}
	}
}

func TestFollowPullSumsLayerProgress(t *testing.T) {
	msgs := stream(t,
		`{"status":"Pulling from library/app","id":"latest"}`,
		`{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}`,
		`{"status":"Pulling fs layer","progressDetail":{},"id":"bbb"}`,
		`{"status":"Downloading","progressDetail":{"current":100,"total":1000},"id":"aaa"}`,
		`{"status":"Downloading","progressDetail":{"current":50,"total":500},"id":"bbb"}`,
		`{"status":"Downloading","progressDetail":{"current":1000,"total":1000},"id":"aaa"}`,
		`{"status":"Verifying Checksum","progressDetail":{},"id":"bbb"}`,
		`{"status":"Download complete","progressDetail":{},"id":"bbb"}`,
		`{"status":"Extracting","progressDetail":{"current":4000,"total":9000},"id":"aaa"}`,
		`{"status":"Pull complete","progressDetail":{},"id":"aaa"}`,
		`{"status":"Already exists","progressDetail":{},"id":"ccc"}`,
		`{"status":"Digest: sha256:abc"}`,
		`{"status":"Status: Downloaded newer image for app:latest"}`,
	)
	var got [][2]int64
	err := followPull(msgs, func(done, total int64) { got = append(got, [2]int64{done, total}) })
	if err != nil {
		t.Fatalf("followPull: %v", err)
	}
	want := [][2]int64{{100, 1000}, {150, 1500}, {1050, 1500}, {1500, 1500}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("progress calls = %v; want %v", got, want)
	}
}

func TestFollowPullReturnsTheStreamError(t *testing.T) {
	msgs := stream(t,
		`{"status":"Pulling from library/app","id":"latest"}`,
		`{"errorDetail":{"message":"manifest for app:nope not found"},"error":"manifest for app:nope not found"}`,
		`{"status":"never read"}`,
	)
	err := followPull(msgs, nil)
	if err == nil || !strings.Contains(err.Error(), "manifest for app:nope not found") {
		t.Fatalf("followPull error = %v; want the stream's error", err)
	}
}

func TestFollowPullReturnsReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	msgs := func(yield func(jsonstream.Message, error) bool) { yield(jsonstream.Message{}, boom) }
	if err := followPull(msgs, nil); !errors.Is(err, boom) {
		t.Fatalf("followPull error = %v; want %v wrapped", err, boom)
	}
}

func TestPullAuthHeaderIsBase64URLJSON(t *testing.T) {
	h, err := PullAuth{}.header()
	if err != nil || h != "" {
		t.Fatalf("anonymous header = %q, %v; want empty", h, err)
	}
	h, err = PullAuth{Username: "AWS", Password: "s3cr?t>>", ServerAddress: "1234.dkr.ecr.local"}.header()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.URLEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("header %q is not base64url: %v", h, err)
	}
	var got map[string]string
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"username": "AWS", "password": "s3cr?t>>", "serveraddress": "1234.dkr.ecr.local"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("auth = %v; want %v", got, want)
	}
}
