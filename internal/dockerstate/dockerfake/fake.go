// Package dockerfake is an in-memory stand-in for *dockerstate.Docker in
// controller unit tests: a pretend daemon whose containers move through Docker's states,
// with helpers to make things happen behind the agent's back (a container
// exits, turns healthy, vanishes) and per-method fault injection.
//
// The fake's cache is never behind its daemon: every change is visible at
// once and announced to subscribers synchronously, outside the fake's lock.
package dockerfake

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// Method names a method of the fake, for fault injection and call counts.
type Method string

// The methods that talk to the daemon.
const (
	ImagePresent     Method = "ImagePresent"
	CreateContainer  Method = "CreateContainer"
	StartContainer   Method = "StartContainer"
	SignalContainer  Method = "SignalContainer"
	RemoveContainer  Method = "RemoveContainer"
	InspectContainer Method = "InspectContainer"
	PullImage        Method = "PullImage"
	ImportImage      Method = "ImportImage"
	EnsureVolume     Method = "EnsureVolume"
	RemoveVolume     Method = "RemoveVolume"
	ImageEnv         Method = "ImageEnv"
)

// ErrTransient is a daemon-unavailable error: dockerstate.IsTransient
// reports true for it.
var ErrTransient = fmt.Errorf("fake docker daemon: %w", cerrdefs.ErrUnavailable)

// Fake is the in-memory Docker. It satisfies every interface the agent's
// consumers declare for Docker (the controllers package checks that at
// compile time). The zero value is not usable; call New.
type Fake struct {
	// Now is the fake's clock for container times.
	Now func() time.Time

	mu         sync.Mutex
	synced     bool
	containers map[string]*entry
	images     dockerstate.ImageIndex
	nextImage  int
	pulls      map[string]error
	imageEnv   map[string][]string
	volumes    map[string]Volume
	faults     map[Method][]fault
	calls      map[Method]int
	nextID     int
	nextPort   int32
	// lost is the error the call in progress returns after taking effect
	// (LoseAnswer), nil for none.
	lost error
	// diskTotal and diskBase size the pretend data disk (SetDisk).
	diskTotal, diskBase uint64

	subMu   sync.Mutex
	subs    map[int]func(dockerstate.Change)
	nextSub int
}

// entry is one container of the pretend daemon.
type entry struct {
	// unseen hides a container the daemon has but the agent's cache has
	// not seen yet (its event is late): an inspect or a resync shows it.
	unseen  bool
	c       dockerstate.Container
	cfg     dockerstate.CreateConfig
	signals []string
	ignore  map[string]bool
}

// Volume is a volume the fake holds.
type Volume struct {
	Name, Driver string
	DriverOpts   map[string]string
	Labels       map[string]string
}

type fault struct {
	err  error
	hang bool
	// lost: the call takes effect, but its answer is lost (err is
	// returned, as a client timeout would).
	lost bool
}

// New returns an empty fake that is already synced.
func New() *Fake {
	return &Fake{
		Now:        time.Now,
		synced:     true,
		containers: map[string]*entry{},
		pulls:      map[string]error{},
		imageEnv:   map[string][]string{},
		volumes:    map[string]Volume{},
		faults:     map[Method][]fault{},
		calls:      map[Method]int{},
		subs:       map[int]func(dockerstate.Change){},
		nextPort:   49153,
	}
}

// Synced fakes Docker.Synced.
func (f *Fake) Synced() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.synced
}

// SetSynced sets what Synced reports; New starts synced.
func (f *Fake) SetSynced(synced bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.synced = synced
}

// Containers fakes Docker.Containers; it returns every container,
// labelled or not, oldest first.
func (f *Fake) Containers() []dockerstate.Container {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sortedLocked(func(*entry) bool { return true })
}

// DaemonContainers returns every container the pretend daemon holds,
// those the agent's cache has not seen yet included.
func (f *Fake) DaemonContainers() []dockerstate.Container {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []dockerstate.Container
	for _, e := range f.containers {
		out = append(out, clone(e.c))
	}
	return out
}

// Container fakes Docker.Container.
func (f *Fake) Container(id string) (dockerstate.Container, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.containers[id]
	if !ok || e.unseen {
		return dockerstate.Container{}, false
	}
	return clone(e.c), true
}

// TaskContainers fakes Docker.TaskContainers.
func (f *Fake) TaskContainers(taskARN string) []dockerstate.Container {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sortedLocked(func(e *entry) bool { return e.c.TaskARN() == taskARN })
}

func (f *Fake) sortedLocked(keep func(*entry) bool) []dockerstate.Container {
	var out []dockerstate.Container
	for _, e := range f.containers {
		if !e.unseen && keep(e) {
			out = append(out, clone(e.c))
		}
	}
	slices.SortFunc(out, func(a, b dockerstate.Container) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Subscribe fakes Docker.Subscribe.
func (f *Fake) Subscribe(fn func(dockerstate.Change)) (cancel func()) {
	f.subMu.Lock()
	defer f.subMu.Unlock()
	id := f.nextSub
	f.nextSub++
	f.subs[id] = fn
	return func() {
		f.subMu.Lock()
		defer f.subMu.Unlock()
		delete(f.subs, id)
	}
}

func (f *Fake) notify(changes ...dockerstate.Change) {
	f.subMu.Lock()
	fns := slices.Collect(maps.Values(f.subs))
	f.subMu.Unlock()
	for _, ch := range changes {
		for _, fn := range fns {
			fn(ch)
		}
	}
}

func changed(e *entry) dockerstate.Change {
	c := clone(e.c)
	return dockerstate.Change{Kind: dockerstate.ContainerChanged, Container: &c}
}

func removed(e *entry) dockerstate.Change {
	c := clone(e.c)
	return dockerstate.Change{Kind: dockerstate.ContainerRemoved, Container: &c}
}

// Fail makes the next n calls of m fail with err (ErrTransient for a
// daemon that is down), before they touch any state.
func (f *Fake) Fail(m Method, n int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults[m] = append(f.faults[m], fault{err: err})
	}
}

// Hang makes the next n calls of m block until their context ends, as a hung
// daemon does, and then fail with the context's error.
func (f *Fake) Hang(m Method, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults[m] = append(f.faults[m], fault{hang: true})
	}
}

// LoseAnswer makes the next CreateContainer take effect and then fail with
// context.DeadlineExceeded, as a client timeout after the daemon did the work
// does; the agent's cache has not seen the container (its event is late)
// until it inspects it or resyncs.
func (f *Fake) LoseAnswer(m Method) {
	if m != CreateContainer {
		panic("dockerfake: LoseAnswer supports CreateContainer only")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[m] = append(f.faults[m], fault{lost: true, err: context.DeadlineExceeded})
}

// Calls reports how many times m was called, faulty calls included.
func (f *Fake) Calls(m Method) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[m]
}

// enter counts a call of m and plays its next fault, if any. On nil it
// returns with f.mu held.
func (f *Fake) enter(ctx context.Context, m Method) error {
	f.mu.Lock()
	f.calls[m]++
	q := f.faults[m]
	if len(q) == 0 {
		return nil
	}
	next := q[0]
	f.faults[m] = q[1:]
	if next.lost {
		f.lost = next.err
		return nil
	}
	f.mu.Unlock()
	if next.hang {
		<-ctx.Done()
		return fmt.Errorf("fake %s: %w", m, ctx.Err())
	}
	return fmt.Errorf("fake %s: %w", m, next.err)
}

func notFound(kind, name string) error {
	return fmt.Errorf("%s %s: %w: %w", kind, name, dockerstate.ErrNotFound,
		cerrdefs.ErrNotFound.WithMessage("No such "+kind+": "+name))
}

func clone(c dockerstate.Container) dockerstate.Container {
	c.Labels = maps.Clone(c.Labels)
	c.Ports = slices.Clone(c.Ports)
	return c
}

func (f *Fake) newID() string {
	f.nextID++
	return fmt.Sprintf("%064x", f.nextID)
}
