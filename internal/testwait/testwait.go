// Package testwait is how tests wait for something that happens in another
// goroutine or process: poll a condition until it holds, and fail with what
// was awaited and what was last seen once a deadline passes. It never sleeps
// for a fixed time hoping the thing is done.
//
// The polling is k8s.io/apimachinery's wait.PollUntilContextTimeout; this
// package only adds the testing.TB reporting. Tests import it; production
// code waits with contexts and watches instead.
package testwait

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// TB is the part of testing.TB that For uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// For calls cond at once and then every interval until it reports true, and
// fails tb once timeout has passed, naming what it waited for and cond's
// last description of what it saw. cond may itself fail tb.
func For(tb TB, what string, timeout, interval time.Duration, cond func() (bool, string)) {
	tb.Helper()
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), interval, timeout, true,
		func(context.Context) (bool, error) {
			var ok bool
			ok, last = cond()
			return ok, nil
		})
	if err != nil {
		if last == "" {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		tb.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, last)
	}
}
