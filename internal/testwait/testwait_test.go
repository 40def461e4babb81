package testwait

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fakeTB records a failure and, like testing.T, ends the goroutine that
// reported it.
type fakeTB struct{ failure string }

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run runs For on a fake TB in its own goroutine, as testing runs a test.
func run(what string, timeout time.Duration, cond func() (bool, string)) (failure string, returned bool) {
	tb := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		For(tb, what, timeout, time.Millisecond, cond)
		returned = true
	}()
	<-done
	return tb.failure, returned
}

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	failure, returned := run("three calls", time.Minute, func() (bool, string) {
		calls++
		return calls == 3, ""
	})
	if !returned || failure != "" || calls != 3 {
		t.Fatalf("returned %v, failure %q, calls %d; want a return after exactly 3 calls", returned, failure, calls)
	}
}

func TestForChecksAtOnce(t *testing.T) {
	start := time.Now()
	failure, returned := run("nothing", time.Minute, func() (bool, string) { return true, "" })
	if !returned || failure != "" {
		t.Fatalf("returned %v, failure %q", returned, failure)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a condition that holds at once took %s", d)
	}
}

func TestForFailsAfterTheTimeoutWithTheLastWord(t *testing.T) {
	n := 0
	start := time.Now()
	failure, returned := run("the moon", 50*time.Millisecond, func() (bool, string) {
		n++
		return false, fmt.Sprintf("poll %d: no moon", n)
	})
	if returned {
		t.Fatal("For returned for a condition that never held")
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("failed after %s, before the 50ms timeout", d)
	}
	want := fmt.Sprintf("timed out after 50ms waiting for the moon; last seen: poll %d: no moon", n)
	if failure != want || n < 2 {
		t.Errorf("failure %q after %d polls, want %q after several", failure, n, want)
	}
}

func TestForWithoutALastWordSaysWhatItWaitedFor(t *testing.T) {
	failure, _ := run("the moon", time.Millisecond, func() (bool, string) { return false, "" })
	if failure != "timed out after 1ms waiting for the moon" {
		t.Errorf("failure %q", failure)
	}
}

func TestForLetsTheConditionFailTheTest(t *testing.T) {
	tb := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		For(tb, "x", time.Minute, time.Millisecond, func() (bool, string) {
			tb.Fatalf("the agent died")
			return true, ""
		})
	}()
	<-done
	if !strings.Contains(tb.failure, "the agent died") {
		t.Errorf("failure %q", tb.failure)
	}
}
