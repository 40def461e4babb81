package v1

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func at(s int64) *metav1.MicroTime {
	m := metav1.NewMicroTime(time.Unix(1_800_000_000+s, 0))
	return &m
}

var (
	noCreds    = PullCredentials{}
	rightCreds = PullCredentials{CredentialsParameter: "right"}
	wrongCreds = PullCredentials{CredentialsParameter: "wrong"}
)

// TestAnswerHolds is the rule of whom a pull's outcome answers, case by
// case: each row is one the pull protocol's fixes had to get right.
func TestAnswerHolds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		phase    string
		with     PullCredentials
		req      PullCredentials
		behavior PullBehavior
		want     bool
	}{
		{"success answers every task under default", ImagePresent, wrongCreds, rightCreds, PullDefault, true},
		{"success answers every task under once", ImagePresent, noCreds, rightCreds, PullOnce, true},
		{"success answers every task under prefer-cached", ImagePresent, noCreds, rightCreds, PullPreferCached, true},
		{"under always a success answers only the same credentials", ImagePresent, wrongCreds, rightCreds, PullAlways, false},
		{"under always a success answers the same credentials", ImagePresent, rightCreds, rightCreds, PullAlways, true},
		{"a failure never answers other credentials", ImageFailed, wrongCreds, rightCreds, PullDefault, false},
		{"a failure answers the credentials that failed", ImageFailed, wrongCreds, wrongCreds, PullDefault, true},
		{"an execution role is a credential too", ImageFailed, PullCredentials{ExecutionRoleArn: "a"}, PullCredentials{ExecutionRoleArn: "b"}, PullDefault, false},
		{"no outcome answers nobody", "", rightCreds, rightCreds, PullDefault, false},
		{"a pull under way answers nobody", ImagePulling, rightCreds, rightCreds, PullDefault, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := PullRequest{Task: "t", At: at(0), PullCredentials: tc.req}
			if got := AnswerHolds(tc.phase, tc.with, &req, tc.behavior); got != tc.want {
				t.Errorf("AnswerHolds(%s, %+v, %+v, %s) = %v, want %v", tc.phase, tc.with, tc.req, tc.behavior, got, tc.want)
			}
		})
	}
}

func TestCachedWillDoAndPullNeeded(t *testing.T) {
	for _, tc := range []struct {
		behavior            PullBehavior
		present, pulled     bool
		cachedWillDo, pulls bool
	}{
		{"", true, false, true, true},
		{PullPreferCached, true, false, true, false},
		{PullPreferCached, false, false, true, true},
		{PullOnce, true, false, false, true}, // someone else's copy: pulled once all the same
		{PullOnce, true, true, true, false},
		{PullOnce, false, true, true, true},
		{PullDefault, true, true, false, true},
		{PullAlways, true, true, false, true},
	} {
		if got := CachedWillDo(tc.behavior, tc.pulled); got != tc.cachedWillDo {
			t.Errorf("CachedWillDo(%q, pulled %v) = %v, want %v", tc.behavior, tc.pulled, got, tc.cachedWillDo)
		}
		if got := PullNeeded(tc.behavior, tc.present, tc.pulled); got != tc.pulls {
			t.Errorf("PullNeeded(%q, present %v, pulled %v) = %v, want %v", tc.behavior, tc.present, tc.pulled, got, tc.pulls)
		}
	}
}

// Requests are per task: a task with other credentials never overwrites
// another's request, and a task's own new request replaces its old one.
func TestRequestsArePerTask(t *testing.T) {
	var s ImageSpec
	if !s.SetRequest(PullRequest{Task: "b", At: at(1), PullCredentials: wrongCreds}) ||
		!s.SetRequest(PullRequest{Task: "a", At: at(2), PullCredentials: rightCreds}) {
		t.Fatal("new requests reported unchanged")
	}
	if s.SetRequest(PullRequest{Task: "a", At: at(2), PullCredentials: rightCreds}) {
		t.Error("the same request again reported a change")
	}
	if got := s.Request("b"); got == nil || got.PullCredentials != wrongCreds {
		t.Errorf("task b's request = %+v, want its own credentials", got)
	}
	s.SetRequest(PullRequest{Task: "a", At: at(5), PullCredentials: rightCreds})
	if got := s.Request("a"); !got.At.Equal(at(5)) || len(s.Requests) != 2 {
		t.Errorf("requests after a re-ask: %+v", s.Requests)
	}
	if s.Requests[0].Task != "a" || s.Requests[1].Task != "b" {
		t.Errorf("requests not sorted by task: %+v", s.Requests)
	}
	if !s.RemoveRequest("a") || s.RemoveRequest("a") || s.Request("a") != nil {
		t.Errorf("remove: %+v", s.Requests)
	}
}

// TestSettle walks the protocol's cases through Pending and Settle.
func TestSettle(t *testing.T) {
	img := func(reqs ...PullRequest) *Image { return &Image{Spec: ImageSpec{Ref: "r", Requests: reqs}} }
	for _, tc := range []struct {
		name     string
		image    *Image
		phase    string
		with     PullCredentials
		behavior PullBehavior
		answered []string
		pending  []string
	}{
		{
			name:  "one pull answers every task that asked, even during it",
			image: img(PullRequest{Task: "a", At: at(1)}, PullRequest{Task: "b", At: at(9)}),
			phase: ImagePresent, behavior: PullDefault,
			answered: []string{"a", "b"},
		},
		{
			name: "a failure with wrong credentials leaves the right ones waiting",
			image: img(PullRequest{Task: "wrong", At: at(1), PullCredentials: wrongCreds},
				PullRequest{Task: "right", At: at(2), PullCredentials: rightCreds}),
			phase: ImageFailed, with: wrongCreds, behavior: PullDefault,
			answered: []string{"wrong"}, pending: []string{"right"},
		},
		{
			name: "under always each credentials pull for themselves",
			image: img(PullRequest{Task: "wrong", At: at(1), PullCredentials: wrongCreds},
				PullRequest{Task: "right", At: at(2), PullCredentials: rightCreds}),
			phase: ImagePresent, with: wrongCreds, behavior: PullAlways,
			answered: []string{"wrong"}, pending: []string{"right"},
		},
		{
			name:  "a task using a cached copy asks nothing and gets no answer",
			image: img(PullRequest{Task: "cached"}, PullRequest{Task: "asks", At: at(1)}),
			phase: ImagePresent, behavior: PullDefault,
			answered: []string{"asks"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.image.Settle(tc.phase, "", tc.with, tc.behavior, *at(10))
			if !slices.Equal(got, tc.answered) {
				t.Errorf("answered %v, want %v", got, tc.answered)
			}
			var pending []string
			for _, r := range tc.image.Pending() {
				pending = append(pending, r.Task)
			}
			if !slices.Equal(pending, tc.pending) {
				t.Errorf("still pending %v, want %v", pending, tc.pending)
			}
		})
	}
}

// An answer to a task's earlier request does not answer its later one:
// a task that re-asks (its image vanished) waits for a new pull.
func TestAnswerToAnEarlierRequestDoesNotCount(t *testing.T) {
	im := &Image{Spec: ImageSpec{Requests: []PullRequest{{Task: "a", At: at(1)}}}}
	im.Settle(ImagePresent, "", noCreds, PullDefault, *at(2))
	if im.Status.Answer("a", at(1)) == nil {
		t.Fatal("no answer to the request at 1")
	}
	im.Spec.SetRequest(PullRequest{Task: "a", At: at(3)})
	if a := im.Status.Answer("a", at(3)); a != nil {
		t.Fatalf("the answer at 2 counts for the request at 3: %+v", a)
	}
	if p := im.Pending(); len(p) != 1 {
		t.Fatalf("pending %+v, want the re-ask", p)
	}
	if got := im.Status.LastAnswered(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("LastAnswered = %v", got)
	}
}

// Answers go with their requests: a task that released the image leaves
// no answer behind, and pending requests come oldest first.
func TestAnswersOfReleasedTasksAreDroppedAndPendingIsOldestFirst(t *testing.T) {
	im := &Image{Spec: ImageSpec{Requests: []PullRequest{{Task: "a", At: at(1)}}}}
	im.Settle(ImagePresent, "", noCreds, PullDefault, *at(2))
	im.Spec.RemoveRequest("a")
	im.Spec.SetRequest(PullRequest{Task: "z", At: at(4)})
	im.Spec.SetRequest(PullRequest{Task: "m", At: at(3)})
	if p := im.Pending(); len(p) != 2 || p[0].Task != "m" || p[1].Task != "z" {
		t.Errorf("pending %+v, want m (asked at 3) before z (at 4)", p)
	}
	im.DropStaleAnswers()
	if len(im.Status.Answers) != 0 {
		t.Errorf("answers of a released task kept: %+v", im.Status.Answers)
	}
}
