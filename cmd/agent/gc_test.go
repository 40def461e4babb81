package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestRunSetsGCPercentUnlessGOGCIsSet: the daemon's default GOGC is 50,
// and an operator's GOGC wins.
func TestRunSetsGCPercentUnlessGOGCIsSet(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })

	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	setGCPercent()
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("GC percent %d without GOGC, want %d", got, defaultGCPercent)
	}

	t.Setenv("GOGC", "100")
	setGCPercent()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent %d with GOGC=100 set, want it kept", got)
	}
}
