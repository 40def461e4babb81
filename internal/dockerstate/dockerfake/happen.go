package dockerfake

import (
	"fmt"
	"slices"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// Things that happen to containers behind the agent's back. Each panics on
// an unknown container id: that is a broken test, not a daemon answer.

// AddContainer puts a container in the fake as if it existed before the
// agent started (for adoption tests); an empty ID is generated. It returns
// the stored container.
func (f *Fake) AddContainer(c dockerstate.Container) dockerstate.Container {
	f.mu.Lock()
	if c.ID == "" {
		c.ID = f.newID()
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = f.Now()
	}
	e := &entry{c: clone(c)}
	f.containers[c.ID] = e
	ch := changed(e)
	f.mu.Unlock()
	f.notify(ch)
	return clone(c)
}

// Exit makes a running container exit with code.
func (f *Fake) Exit(id string, code int) { f.exit(id, code, false) }

// OOMKill makes a running container die of the OOM killer (exit 137).
func (f *Fake) OOMKill(id string) { f.exit(id, 137, true) }

func (f *Fake) exit(id string, code int, oom bool) {
	f.mutate(id, func(e *entry) error {
		if e.c.State != dockerstate.StateRunning {
			return fmt.Errorf("dockerfake: container %s is %s, not running", id, e.c.State)
		}
		f.exitLocked(e, code, oom)
		return nil
	})
}

// SetHealth sets a container's health status ("starting", "healthy",
// "unhealthy") and the last check's output.
func (f *Fake) SetHealth(id, status, output string) {
	f.mutate(id, func(e *entry) error {
		e.c.Health = status
		e.c.HealthOutput = output
		return nil
	})
}

// IgnoreSignal makes the container ignore signal ("SIGTERM"); SIGKILL
// still kills it.
func (f *Fake) IgnoreSignal(id, signal string) {
	name, _, err := parseSignal(signal)
	if err != nil {
		panic(err)
	}
	f.look(id, func(e *entry) {
		if e.ignore == nil {
			e.ignore = map[string]bool{}
		}
		e.ignore["SIG"+name] = true
	})
}

// Signals returns the signals sent to the container, in order.
func (f *Fake) Signals(id string) []string {
	var out []string
	f.look(id, func(e *entry) { out = slices.Clone(e.signals) })
	return out
}

// CreateConfig returns what the container was created with.
func (f *Fake) CreateConfig(id string) dockerstate.CreateConfig {
	var out dockerstate.CreateConfig
	f.look(id, func(e *entry) { out = e.cfg })
	return out
}

// Vanish removes a container as `docker rm -f` would, and announces
// ContainerRemoved as the real client does once it notices.
func (f *Fake) Vanish(id string) {
	var ch dockerstate.Change
	f.look(id, func(e *entry) {
		delete(f.containers, id)
		ch = removed(e)
	})
	f.notify(ch)
}

// VanishSilently removes a container without telling subscribers: the
// events stream lost the news and the relist has not run yet. Follow with
// Resync to simulate the relist.
func (f *Fake) VanishSilently(id string) {
	f.look(id, func(*entry) { delete(f.containers, id) })
}

// Resync announces Resynced, as the real client does after a full relist
// (at start and after reconnecting to the daemon).
func (f *Fake) Resync() {
	f.mu.Lock()
	for _, e := range f.containers {
		e.unseen = false
	}
	f.mu.Unlock()
	f.notify(dockerstate.Change{Kind: dockerstate.Resynced})
}

// look runs fn on the container under the lock; it panics, unlocked, when
// there is no such container.
func (f *Fake) look(id string, fn func(*entry)) {
	f.mu.Lock()
	e, ok := f.containers[id]
	if ok {
		fn(e)
	}
	f.mu.Unlock()
	if !ok {
		panic(fmt.Sprintf("dockerfake: no container %s", id))
	}
}

// mutate changes the container under the lock and announces the change; it
// panics, unlocked, when there is no such container or fn fails.
func (f *Fake) mutate(id string, fn func(*entry) error) {
	var err error
	var ch dockerstate.Change
	f.look(id, func(e *entry) {
		if err = fn(e); err == nil {
			ch = changed(e)
		}
	})
	if err != nil {
		panic(err)
	}
	f.notify(ch)
}
