package credentials

import (
	"errors"
	"maps"
	"slices"
	"sync"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// Errors of Lookup, as the credentials endpoint tells them apart.
var (
	// ErrUnknownID: no task's role has this id (400 InvalidIdInRequest).
	ErrUnknownID = errors.New("credentials not found")
	// ErrNotYetAvailable: the id is a task's, but its credentials have not
	// arrived since the agent started (503 CredentialsUninitialized).
	ErrNotYetAvailable = errors.New("credentials uninitialized for ID")
)

// Holder is the in-memory credentials store. The zero value is not usable;
// call NewHolder. It is safe for concurrent use.
type Holder struct {
	mu    sync.RWMutex
	byKey map[Key]*entry
	byID  map[string]Key

	subMu   sync.Mutex
	subs    map[uint64]func(Key)
	nextSub uint64
}

type entry struct {
	id     string
	creds  *Credentials // nil until put
	source apiv1.CredentialsSource
}

// NewHolder returns an empty holder.
func NewHolder() *Holder {
	return &Holder{byKey: map[Key]*entry{}, byID: map[string]Key{}, subs: map[uint64]func(Key){}}
}

// Put stores a task role's credentials, replacing what was held; src says
// where they came from. It is the one call a credentials source makes (see
// the package comment).
func (h *Holder) Put(taskARN string, role apiv1.RoleType, c Credentials, src apiv1.CredentialsSource) {
	k := Key{TaskARN: taskARN, Role: role}
	h.mu.Lock()
	e := h.entry(k)
	e.creds, e.source = &c, src
	h.mu.Unlock()
	h.notify(k)
}

// Bind makes id the credentials id of a task's role. An id already bound
// to another key moves; a key's earlier id is dropped.
func (h *Holder) Bind(id string, k Key) {
	h.mu.Lock()
	e := h.entry(k)
	if e.id == id {
		h.mu.Unlock()
		return
	}
	if e.id != "" {
		delete(h.byID, e.id)
	}
	if old, ok := h.byID[id]; ok && old != k {
		h.byKey[old].id = ""
	}
	e.id = id
	h.byID[id] = k
	h.mu.Unlock()
	h.notify(k)
}

// entry returns k's entry, creating it; h.mu must be held.
func (h *Holder) entry(k Key) *entry {
	e := h.byKey[k]
	if e == nil {
		e = &entry{}
		h.byKey[k] = e
	}
	return e
}

// Lookup returns the credentials served under id: ErrUnknownID if no role
// has the id, ErrNotYetAvailable if its credentials have not arrived.
func (h *Holder) Lookup(id string) (Credentials, apiv1.RoleType, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	k, ok := h.byID[id]
	if !ok {
		return Credentials{}, "", ErrUnknownID
	}
	e := h.byKey[k]
	if e.creds == nil {
		return Credentials{}, k.Role, ErrNotYetAvailable
	}
	return *e.creds, k.Role, nil
}

// Get returns a task role's credentials and where they came from; ok is
// false when none are held.
func (h *Holder) Get(k Key) (c Credentials, src apiv1.CredentialsSource, ok bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	e := h.byKey[k]
	if e == nil || e.creds == nil {
		return Credentials{}, "", false
	}
	return *e.creds, e.source, true
}

// ForRole returns the held credentials of the role ARN as a role of kind
// role for any task, the one expiring last: an execution role is shared
// by every task that names it, and what the agent does with it (an ECR
// token, a secret) does not depend on which task asked.
func (h *Holder) ForRole(role apiv1.RoleType, roleArn string) (Credentials, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var best *Credentials
	for k, e := range h.byKey {
		if k.Role != role || e.creds == nil || e.creds.RoleArn != roleArn {
			continue
		}
		if best == nil || e.creds.Expiration.After(best.Expiration) {
			best = e.creds
		}
	}
	if best == nil {
		return Credentials{}, false
	}
	return *best, true
}

// Forget drops a task role's id and credentials: the id answers
// ErrUnknownID from now on.
func (h *Holder) Forget(k Key) {
	h.mu.Lock()
	e, ok := h.byKey[k]
	if ok {
		delete(h.byKey, k)
		if e.id != "" {
			delete(h.byID, e.id)
		}
	}
	h.mu.Unlock()
	if ok {
		h.notify(k)
	}
}

// Subscribe calls fn with the key after every change of a task role's id
// or credentials, until cancel is called. fn runs on the changing
// goroutine and must not block.
func (h *Holder) Subscribe(fn func(Key)) (cancel func()) {
	h.subMu.Lock()
	defer h.subMu.Unlock()
	id := h.nextSub
	h.nextSub++
	h.subs[id] = fn
	return func() {
		h.subMu.Lock()
		defer h.subMu.Unlock()
		delete(h.subs, id)
	}
}

func (h *Holder) notify(k Key) {
	h.subMu.Lock()
	fns := slices.Collect(maps.Values(h.subs))
	h.subMu.Unlock()
	for _, fn := range fns {
		fn(k)
	}
}
