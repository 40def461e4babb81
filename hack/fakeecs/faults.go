package fakeecs

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"time"
)

// FaultKind is what an injected fault does to a call.
type FaultKind string

// Fault kinds.
const (
	// FaultThrottle answers HTTP 400 ThrottlingException, which the SDK's retryer retries as throttling.
	FaultThrottle FaultKind = "throttle"
	// FaultServerError answers HTTP 500 ServerException.
	FaultServerError FaultKind = "server-error"
	// FaultLatency delays the call by Latency, then serves it.
	FaultLatency FaultKind = "latency"
)

// Fault is one injected fault. It applies to the calls of Action (every action when empty) until
// it has hit Count calls (no limit when 0) or until Until has passed (no limit when zero); with
// neither limit it lasts until cleared.
type Fault struct {
	ID      int           `json:"id"`
	Kind    FaultKind     `json:"kind"`
	Action  string        `json:"action,omitempty"`
	Count   int           `json:"count,omitempty"`
	Until   time.Time     `json:"until,omitzero"`
	Latency time.Duration `json:"latency,omitempty"`
	// Hits counts the calls the fault has affected.
	Hits int `json:"hits"`
}

// InjectFault adds a fault and returns its id. Faults apply in the order they were added: every
// matching latency fault delays the call, then the first matching error fault answers it.
func (f *Fake) InjectFault(ft Fault) (int, error) {
	switch ft.Kind {
	case FaultThrottle, FaultServerError:
	case FaultLatency:
		if ft.Latency <= 0 {
			return 0, fmt.Errorf("latency fault needs a positive latency")
		}
	default:
		return 0, fmt.Errorf("unknown fault kind %q (want %s, %s or %s)", ft.Kind, FaultThrottle, FaultServerError, FaultLatency)
	}
	if ft.Count < 0 {
		return 0, fmt.Errorf("fault count %d is negative", ft.Count)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faultSeq++
	ft.ID, ft.Hits = f.faultSeq, 0
	f.faults = append(f.faults, &ft)
	return ft.ID, nil
}

// ThrottleFor answers every call of action (all when empty) with ThrottlingException for d.
func (f *Fake) ThrottleFor(action string, d time.Duration) int {
	id, _ := f.InjectFault(Fault{Kind: FaultThrottle, Action: action, Until: f.now().Add(d)})
	return id
}

// ThrottleN answers the next n calls of action (all when empty) with ThrottlingException.
func (f *Fake) ThrottleN(action string, n int) int {
	id, _ := f.InjectFault(Fault{Kind: FaultThrottle, Action: action, Count: n})
	return id
}

// FailFor answers every call of action (all when empty) with a 500 ServerException for d.
func (f *Fake) FailFor(action string, d time.Duration) int {
	id, _ := f.InjectFault(Fault{Kind: FaultServerError, Action: action, Until: f.now().Add(d)})
	return id
}

// FailN answers the next n calls of action (all when empty) with a 500 ServerException.
func (f *Fake) FailN(action string, n int) int {
	id, _ := f.InjectFault(Fault{Kind: FaultServerError, Action: action, Count: n})
	return id
}

// AddLatency delays every call of action (all when empty) by d until cleared.
func (f *Fake) AddLatency(action string, d time.Duration) int {
	id, _ := f.InjectFault(Fault{Kind: FaultLatency, Action: action, Latency: d})
	return id
}

// ClearFault removes one fault by id; ClearFaults removes them all.
func (f *Fake) ClearFault(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ft := range f.faults {
		if ft.ID == id {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
			return
		}
	}
}

// ClearFaults removes every fault.
func (f *Fake) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

// Faults returns the faults still in force.
func (f *Fake) Faults() []Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expireFaults()
	out := make([]Fault, 0, len(f.faults))
	for _, ft := range f.faults {
		out = append(out, *ft)
	}
	return out
}

// expireFaults drops spent faults; callers hold f.mu.
func (f *Fake) expireFaults() {
	now := f.now()
	kept := f.faults[:0]
	for _, ft := range f.faults {
		if (ft.Count > 0 && ft.Hits >= ft.Count) || (!ft.Until.IsZero() && !now.Before(ft.Until)) {
			continue
		}
		kept = append(kept, ft)
	}
	f.faults = kept
}

// applyFaults delays and/or fails one call of action.
func (f *Fake) applyFaults(ctx context.Context, action string) error {
	f.mu.Lock()
	f.expireFaults()
	var delay time.Duration
	var fail *apiError
	for _, ft := range f.faults {
		if ft.Action != "" && ft.Action != action {
			continue
		}
		switch {
		case ft.Kind == FaultLatency:
			delay += ft.Latency
			ft.Hits++
		case fail == nil && ft.Kind == FaultThrottle:
			fail = &apiError{Status: http.StatusBadRequest, Code: CodeThrottling, Message: "Rate exceeded"}
			ft.Hits++
		case fail == nil && ft.Kind == FaultServerError:
			fail = &apiError{Status: http.StatusInternalServerError, Code: CodeServer, Message: "Service unavailable (injected fault)"}
			ft.Hits++
		}
	}
	f.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail != nil {
		return fail
	}
	return nil
}

func (f *Fake) countCall(action string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[action]++
}

// Calls returns how many times each action was called (faulted calls included) since the start
// or the last ResetCalls.
func (f *Fake) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.calls)
}

// CallCount returns how many times one action was called.
func (f *Fake) CallCount(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[action]
}

// TotalCalls returns how many API calls the fake received.
func (f *Fake) TotalCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.calls {
		n += v
	}
	return n
}

// ResetCalls sets every call count back to zero.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = map[string]int{}
}
