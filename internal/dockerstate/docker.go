package dockerstate

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/go-logr/logr"
	"github.com/moby/moby/client"
)

// Defaults for Options. The timeouts are ceilings for a daemon that is slow
// or hung, not estimates: a healthy daemon answers inspect, list and kill in
// milliseconds.
const (
	// DefaultCallTimeout bounds the quick calls (inspect, list, kill, ping,
	// volume inspect). Half a minute lets a heavily loaded daemon answer
	// (the ECS agent uses the same for inspect) yet frees a reconciler
	// worker from a hung daemon well before anyone notices.
	DefaultCallTimeout = 30 * time.Second
	// DefaultPullTimeout is the ECS agent's default image pull timeout:
	// large images over slow links take many minutes.
	DefaultPullTimeout = 2 * time.Hour
	// DefaultPullInactivityTimeout is the ECS agent's default
	// ECS_IMAGE_PULL_INACTIVITY_TIMEOUT.
	DefaultPullInactivityTimeout = time.Minute
	// DefaultRelistInterval is how often the whole cache is checked against
	// a fresh List, to catch events the stream lost: a minute makes the
	// backstop two requests a minute (one container List, one image List)
	// for an idle agent, however many tasks it runs; events are lost
	// rarely, and a daemon reconnect relists at once anyway.
	DefaultRelistInterval = time.Minute

	// slowCallFactor scales CallTimeout for the calls that do disk work in
	// the daemon (create, start, remove, volume create and remove). The ECS
	// agent gives these minutes (create 4m, start 3m, remove 4m) after
	// timeouts under load; a create that times out client-side but
	// completes in the daemon leaves an orphan container behind, so these
	// must not be tight.
	slowCallFactor = 4
)

// Options configures a Docker.
type Options struct {
	// Host is the daemon address (DOCKER_HOST syntax, e.g.
	// unix:///var/run/docker.sock); "" takes DOCKER_HOST and the TLS
	// settings from the environment, as the docker CLI does.
	Host string
	// CallTimeout bounds each quick daemon call; slow calls (create,
	// start, remove, volumes) get four times as much. Default
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// PullTimeout bounds one image pull. Default DefaultPullTimeout.
	PullTimeout time.Duration
	// PullInactivityTimeout cancels a pull whose progress stream is silent
	// this long (ECS_IMAGE_PULL_INACTIVITY_TIMEOUT). Default
	// DefaultPullInactivityTimeout.
	PullInactivityTimeout time.Duration
	// RelistInterval is the backstop relist period. Default
	// DefaultRelistInterval.
	RelistInterval time.Duration
	// Log receives connection changes and cache anomalies.
	Log logr.Logger
}

// Docker is the agent's client of a real daemon, with its cache of containers
// and images. Create it with New and start its cache with Run.
type Docker struct {
	api  *client.Client
	opts Options
	log  logr.Logger

	mu         sync.RWMutex
	containers map[string]Container // task containers by full id
	images     ImageIndex           // every local image
	synced     atomic.Bool
	outages    outages

	// imageSync serialises reading the daemon's images with writing them
	// to the cache (see imagecache.go).
	imageSync sync.Mutex

	// idLocks serialises inspect-and-store per container, so that an
	// older inspect result can never overwrite a newer one.
	idLocks keyedMutex

	subMu   sync.Mutex
	subs    map[uint64]func(Change)
	nextSub uint64
}

// New builds a client for the daemon; it does not connect yet.
func New(opts Options) (*Docker, error) {
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.PullTimeout <= 0 {
		opts.PullTimeout = DefaultPullTimeout
	}
	if opts.PullInactivityTimeout <= 0 {
		opts.PullInactivityTimeout = DefaultPullInactivityTimeout
	}
	if opts.RelistInterval <= 0 {
		opts.RelistInterval = DefaultRelistInterval
	}
	copts := []client.Opt{client.FromEnv}
	if opts.Host != "" {
		copts = append(copts, client.WithHost(opts.Host))
	}
	api, err := client.New(copts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for host %q: %w", opts.Host, err)
	}
	return &Docker{
		api:        api,
		opts:       opts,
		log:        opts.Log,
		containers: map[string]Container{},
		subs:       map[uint64]func(Change){},
	}, nil
}

// Close releases the client's idle connections.
func (d *Docker) Close() error { return d.api.Close() }

// Synced reports whether the first List has filled the cache.
func (d *Docker) Synced() bool { return d.synced.Load() }

// Containers returns every cached container, oldest first.
func (d *Docker) Containers() []Container {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]Container, 0, len(d.containers))
	for _, c := range d.containers {
		out = append(out, c.clone())
	}
	sortOldestFirst(out)
	return out
}

// Container returns the cached container with the id.
func (d *Docker) Container(id string) (Container, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	c, ok := d.containers[id]
	return c.clone(), ok
}

// TaskContainers returns the cached containers labelled with the task ARN,
// oldest first.
func (d *Docker) TaskContainers(taskARN string) []Container {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []Container
	for _, c := range d.containers {
		if c.TaskARN() == taskARN {
			out = append(out, c.clone())
		}
	}
	sortOldestFirst(out)
	return out
}

func sortOldestFirst(cs []Container) {
	slices.SortFunc(cs, func(a, b Container) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
}

// Subscribe calls fn after every cache change, until cancel is called. fn
// is called synchronously from the goroutine that changed the cache (the
// events loop, or a caller of CreateContainer, RemoveContainer,
// InspectContainer, PullImage, DeleteImage), after the cache lock is
// released, so it may read the cache; it may be called from several
// goroutines at once and must not block: a slow fn stalls the events loop.
// Changes carry the state at the time of the change; read the cache for
// the latest.
func (d *Docker) Subscribe(fn func(Change)) (cancel func()) {
	d.subMu.Lock()
	defer d.subMu.Unlock()
	id := d.nextSub
	d.nextSub++
	d.subs[id] = fn
	return func() {
		d.subMu.Lock()
		defer d.subMu.Unlock()
		delete(d.subs, id)
	}
}

func (d *Docker) notify(ch *Change) {
	if ch == nil {
		return
	}
	d.subMu.Lock()
	fns := slices.Collect(maps.Values(d.subs))
	d.subMu.Unlock()
	for _, fn := range fns {
		fn(*ch)
	}
}

// put stores c if it is a task container and differs from what the cache
// holds; it returns the change to announce, or nil.
func (d *Docker) put(c Container) *Change {
	if c.TaskARN() == "" {
		// The cache holds task containers only, as the List does.
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.containers[c.ID]; ok && reflect.DeepEqual(old, c) {
		return nil
	}
	d.containers[c.ID] = c
	cp := c.clone()
	return &Change{Kind: ContainerChanged, Container: &cp}
}

// forget drops a container; it returns the change to announce, or nil when
// the cache did not hold it.
func (d *Docker) forget(id string) *Change {
	d.mu.Lock()
	defer d.mu.Unlock()
	old, ok := d.containers[id]
	if !ok {
		return nil
	}
	delete(d.containers, id)
	return &Change{Kind: ContainerRemoved, Container: &old}
}

// refresh inspects one container and brings the cache in line with the
// answer: stored or updated when it exists, dropped when the daemon says it
// does not.
func (d *Docker) refresh(ctx context.Context, id string) (Container, error) {
	unlock := d.idLocks.lock(id)
	ctx, cancel := context.WithTimeout(ctx, d.opts.CallTimeout)
	res, err := d.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	cancel()
	var ch *Change
	var c Container
	switch {
	case cerrdefs.IsNotFound(err):
		ch = d.forget(id)
		err = fmt.Errorf("inspect container %s: %w: %w", id, ErrNotFound, err)
	case err != nil:
		err = fmt.Errorf("inspect container %s: %w", id, err)
	default:
		c = fromInspect(&res.Container)
		ch = d.put(c)
	}
	unlock()
	d.notify(ch)
	return c.clone(), err
}

// callCtx derives the context for one quick daemon call.
func (d *Docker) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.opts.CallTimeout)
}

// slowCallCtx derives the context for one daemon call that does disk work.
func (d *Docker) slowCallCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, slowCallFactor*d.opts.CallTimeout)
}

// notFound wraps a daemon error as ErrNotFound when it says the object does
// not exist, keeping the daemon's words.
func notFound(err error, what string) error {
	if cerrdefs.IsNotFound(err) {
		return fmt.Errorf("%s: %w: %w", what, ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (c Container) clone() Container {
	c.Labels = maps.Clone(c.Labels)
	c.Ports = slices.Clone(c.Ports)
	c.Networks = slices.Clone(c.Networks)
	c.Mounts = slices.Clone(c.Mounts)
	return c
}

// keyedMutex is one mutex per key, created on demand and dropped when no
// one holds or waits for it.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*refMutex
}

type refMutex struct {
	sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*refMutex{}
	}
	m := k.locks[key]
	if m == nil {
		m = &refMutex{}
		k.locks[key] = m
	}
	m.refs++
	k.mu.Unlock()
	m.Lock()
	return func() {
		m.Unlock()
		k.mu.Lock()
		m.refs--
		if m.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
