package v1

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The pull protocol between tasks and the images reconciler, in one place.
//
// A task that needs an image writes its own PullRequest into the Image's
// spec (one entry per task, keyed by task name) and waits for the answer
// the images reconciler writes for it into the status. The images
// reconciler pulls with the credentials of the oldest pending request and,
// when the pull settles, answers every pending request that outcome holds
// for (AnswerHolds). So two tasks cause one pull, a failure with one
// task's credentials never answers a task with other ones, and no task's
// request overwrites another's.

// PullCredentials names (never holds) the credentials a pull uses.
type PullCredentials struct {
	// CredentialsParameter is the container's repositoryCredentials
	// secret.
	CredentialsParameter string `json:"credentialsParameter,omitempty"`
	// ExecutionRoleArn is the task's execution role: it fetches ECR tokens
	// and repository credentials.
	ExecutionRoleArn string `json:"executionRoleArn,omitempty"`
}

// PullRequest is one task's use of an image.
type PullRequest struct {
	// Task is the name of the task object.
	Task string `json:"task"`
	// At asks for an answer to a pull at or after this instant; nil means
	// the task uses the image without asking (a cached copy will do).
	At              *metav1.MicroTime `json:"at,omitempty"`
	PullCredentials `json:",inline"`
}

// PullAnswer is the images reconciler's answer to one task's request.
type PullAnswer struct {
	Task string `json:"task"`
	// RequestedAt is the At of the request answered.
	RequestedAt metav1.MicroTime `json:"requestedAt"`
	// Phase is ImagePresent (use the image) or ImageFailed (give up).
	Phase string `json:"phase"`
	// Error is the pull's error: why it failed, or why the cached copy is
	// used.
	Error string `json:"error,omitempty"`
	// AnsweredAt is when the answer was written.
	AnsweredAt metav1.MicroTime `json:"answeredAt"`
}

// CachedWillDo reports whether a task may use a copy of the image already
// on the host without asking for a pull: the images reconciler would not
// pull it anyway. So it is under prefer-cached, under once after this
// agent pulled the image, and with no behaviour set.
func CachedWillDo(behavior PullBehavior, pulledBefore bool) bool {
	switch behavior {
	case "", PullPreferCached:
		return true
	case PullOnce:
		return pulledBefore
	}
	return false
}

// PullNeeded reports whether a pending request makes the images
// reconciler pull, given whether the image is on the host and whether this
// agent pulled it before.
func PullNeeded(behavior PullBehavior, present, pulledBefore bool) bool {
	switch behavior {
	case PullPreferCached:
		return !present
	case PullOnce:
		// Once per agent, not per image on the host: an image someone else
		// put there is still pulled the first time.
		return !present || !pulledBefore
	}
	return true
}

// AnswerHolds reports whether the outcome of a pull made with the given
// credentials answers req. An image on the host serves every task, except
// under "always", where each task's own credentials must pull it; a failure
// answers only the credentials that failed.
func AnswerHolds(phase string, with PullCredentials, req *PullRequest, behavior PullBehavior) bool {
	same := with == req.PullCredentials
	switch phase {
	case ImagePresent:
		return behavior != PullAlways || same
	case ImageFailed:
		return same
	}
	return false
}

// Request returns the task's request, or nil.
func (s *ImageSpec) Request(task string) *PullRequest {
	i := slices.IndexFunc(s.Requests, func(r PullRequest) bool { return r.Task == task })
	if i < 0 {
		return nil
	}
	return &s.Requests[i]
}

// SetRequest records the task's request, replacing its earlier one, and
// reports whether anything changed. Requests stay sorted by task.
func (s *ImageSpec) SetRequest(req PullRequest) bool {
	old := s.Request(req.Task)
	if old == nil {
		s.Requests = append(s.Requests, req)
		slices.SortFunc(s.Requests, func(a, b PullRequest) int { return strings.Compare(a.Task, b.Task) })
		return true
	}
	if old.PullCredentials == req.PullCredentials && sameInstant(old.At, req.At) {
		return false
	}
	*old = req
	return true
}

// RemoveRequest drops the task's request and reports whether it had one.
func (s *ImageSpec) RemoveRequest(task string) bool {
	n := len(s.Requests)
	s.Requests = slices.DeleteFunc(s.Requests, func(r PullRequest) bool { return r.Task == task })
	return len(s.Requests) != n
}

// Answer returns the answer to the task's request made at at, or nil while
// it has none: an answer to an earlier request does not count.
func (s *ImageStatus) Answer(task string, at *metav1.MicroTime) *PullAnswer {
	for i := range s.Answers {
		a := &s.Answers[i]
		if a.Task == task && at != nil && !a.RequestedAt.Before(at) {
			return a
		}
	}
	return nil
}

// Pending returns the requests that ask for a pull and have no answer
// yet, oldest first.
func (img *Image) Pending() []PullRequest {
	var out []PullRequest
	for _, r := range img.Spec.Requests {
		if r.At != nil && img.Status.Answer(r.Task, r.At) == nil {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b PullRequest) int { return a.At.Time.Compare(b.At.Time) })
	return out
}

// Settle answers every pending request that the outcome of a pull made
// with the given credentials holds for, and drops the answers of tasks
// that no longer ask. It returns the tasks it answered. Only the images
// reconciler calls it: it is the status's one writer.
func (img *Image) Settle(phase, pullErr string, with PullCredentials, behavior PullBehavior, now metav1.MicroTime) []string {
	var answered []string
	for _, r := range img.Pending() {
		if !AnswerHolds(phase, with, &r, behavior) {
			continue
		}
		img.Status.setAnswer(PullAnswer{Task: r.Task, RequestedAt: *r.At, Phase: phase, Error: pullErr, AnsweredAt: now})
		answered = append(answered, r.Task)
	}
	img.DropStaleAnswers()
	return answered
}

// DropStaleAnswers forgets the answers of tasks that no longer ask.
func (img *Image) DropStaleAnswers() {
	img.Status.Answers = slices.DeleteFunc(img.Status.Answers, func(a PullAnswer) bool { return img.Spec.Request(a.Task) == nil })
	if len(img.Status.Answers) == 0 {
		img.Status.Answers = nil
	}
}

func (s *ImageStatus) setAnswer(a PullAnswer) {
	for i := range s.Answers {
		if s.Answers[i].Task == a.Task {
			s.Answers[i] = a
			return
		}
	}
	s.Answers = append(s.Answers, a)
	slices.SortFunc(s.Answers, func(a, b PullAnswer) int { return strings.Compare(a.Task, b.Task) })
}

// LastAnswered are the tasks the latest answer write answered: they are
// the ones to wake when it lands.
func (s *ImageStatus) LastAnswered() []string {
	var last metav1.MicroTime
	for _, a := range s.Answers {
		if last.Before(&a.AnsweredAt) {
			last = a.AnsweredAt
		}
	}
	var out []string
	for _, a := range s.Answers {
		if a.AnsweredAt.Equal(&last) {
			out = append(out, a.Task)
		}
	}
	return out
}

func sameInstant(a, b *metav1.MicroTime) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b)
}
