package dockerfake

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// signals maps the names SignalContainer accepts to their numbers (Linux).
var signals = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15,
}

// CreateContainer fakes Docker.CreateContainer. As in Docker the image must
// be present (ErrNotFound otherwise) and the name unused.
func (f *Fake) CreateContainer(ctx context.Context, cfg dockerstate.CreateConfig) (dockerstate.Container, error) {
	if err := f.enter(ctx, CreateContainer); err != nil {
		return dockerstate.Container{}, err
	}
	if cfg.Image == "" {
		f.mu.Unlock()
		return dockerstate.Container{}, cerrdefs.ErrInvalidArgument.WithMessage("fake create: config.Image is required")
	}
	img, ok, err := f.images.Resolve(cfg.Image)
	if err != nil {
		f.mu.Unlock()
		return dockerstate.Container{}, fmt.Errorf("create container %s: %w", cfg.Name, cerrdefs.ErrInvalidArgument.WithMessage(err.Error()))
	}
	if !ok {
		f.mu.Unlock()
		return dockerstate.Container{}, fmt.Errorf("create container %s: %w", cfg.Name, notFound("image", cfg.Image))
	}
	for _, e := range f.containers {
		if cfg.Name != "" && e.c.Name == cfg.Name {
			f.mu.Unlock()
			return dockerstate.Container{}, fmt.Errorf("create container %s: %w: %w", cfg.Name, dockerstate.ErrNameInUse, cerrdefs.ErrConflict.WithMessage(
				fmt.Sprintf("Conflict. The container name %q is already in use by container %q", "/"+cfg.Name, e.c.ID)))
		}
	}
	id := f.newID()
	name := cfg.Name
	if name == "" {
		name = "fake_" + id[len(id)-8:]
	}
	e := &entry{cfg: cfg, c: dockerstate.Container{
		ID:         id,
		Name:       name,
		Image:      cfg.Image,
		ImageID:    img.ID,
		Labels:     maps.Clone(cfg.Labels),
		State:      dockerstate.StateCreated,
		CreatedAt:  f.Now(),
		StopSignal: cfg.StopSignal,
	}}
	f.containers[id] = e
	c, ch := clone(e.c), changed(e)
	if lost := f.lost; lost != nil {
		f.lost = nil
		e.unseen = true
		f.mu.Unlock()
		return dockerstate.Container{}, fmt.Errorf("fake create container %s: %w", cfg.Name, lost)
	}
	f.mu.Unlock()
	f.notify(ch)
	return c, nil
}

// StartContainer fakes Docker.StartContainer. Starting a running
// container is a no-op, as in Docker. Host ports come from the create
// config's port bindings; an empty host port gets one from 49153 up.
func (f *Fake) StartContainer(ctx context.Context, id string) error {
	if err := f.enter(ctx, StartContainer); err != nil {
		return err
	}
	e, ok := f.containers[id]
	if !ok {
		f.mu.Unlock()
		return fmt.Errorf("start container %s: %w", id, notFound("container", id))
	}
	if e.c.State == dockerstate.StateRunning {
		f.mu.Unlock()
		return nil
	}
	e.c.State = dockerstate.StateRunning
	e.c.StartedAt = f.Now()
	e.c.ExitCode = 0
	e.c.OOMKilled = false
	e.c.Ports = f.bindPortsLocked(e.cfg)
	if hasHealthcheck(e.cfg) {
		e.c.Health = "starting"
		e.c.HealthOutput = ""
	}
	ch := changed(e)
	f.mu.Unlock()
	f.notify(ch)
	return nil
}

func (f *Fake) bindPortsLocked(cfg dockerstate.CreateConfig) []dockerstate.PortBinding {
	var out []dockerstate.PortBinding
	for _, b := range cfg.Ports {
		if b.Protocol == "" {
			continue // not published, as in Docker
		}
		if b.HostPort == 0 {
			b.HostPort = f.nextPort
			f.nextPort++
		}
		if b.HostIP == "" {
			b.HostIP = "0.0.0.0"
		}
		out = append(out, b)
	}
	dockerstate.SortPortBindings(out)
	return out
}

// SignalContainer fakes Docker.SignalContainer. A signal the test has not
// told the container to ignore (IgnoreSignal) makes it exit with 128 plus
// the signal's number, as a process killed by it does; SIGKILL cannot be
// ignored. Signalling a container that is not running is a conflict, as
// in Docker.
func (f *Fake) SignalContainer(ctx context.Context, id, signal string) error {
	if err := f.enter(ctx, SignalContainer); err != nil {
		return err
	}
	e, ok := f.containers[id]
	if !ok {
		f.mu.Unlock()
		return fmt.Errorf("signal container %s: %w", id, notFound("container", id))
	}
	name, num, err := parseSignal(signal)
	if err != nil {
		f.mu.Unlock()
		return err
	}
	if e.c.State != dockerstate.StateRunning {
		f.mu.Unlock()
		return cerrdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is not running", id))
	}
	e.signals = append(e.signals, "SIG"+name)
	if name != "KILL" && e.ignore["SIG"+name] {
		f.mu.Unlock()
		return nil
	}
	f.exitLocked(e, 128+num, false)
	ch := changed(e)
	f.mu.Unlock()
	f.notify(ch)
	return nil
}

func parseSignal(s string) (name string, num int, err error) {
	if n, err := strconv.Atoi(s); err == nil {
		for name, num := range signals {
			if num == n {
				return name, num, nil
			}
		}
	}
	name = strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if num, ok := signals[name]; ok {
		return name, num, nil
	}
	return "", 0, cerrdefs.ErrInvalidArgument.WithMessage("Invalid signal: " + s)
}

func (f *Fake) exitLocked(e *entry, code int, oom bool) {
	e.c.State = dockerstate.StateExited
	e.c.ExitCode = code
	e.c.OOMKilled = oom
	e.c.FinishedAt = f.Now()
	e.c.Ports = nil // Docker unpublishes a stopped container's ports
}

// RemoveContainer fakes Docker.RemoveContainer; like the real one it
// removes running containers too.
func (f *Fake) RemoveContainer(ctx context.Context, id string, removeVolumes bool) error {
	if err := f.enter(ctx, RemoveContainer); err != nil {
		return err
	}
	e, ok := f.containers[id]
	if !ok {
		f.mu.Unlock()
		return fmt.Errorf("remove container %s: %w", id, notFound("container", id))
	}
	delete(f.containers, id)
	ch := removed(e)
	f.mu.Unlock()
	f.notify(ch)
	return nil
}

// InspectContainer fakes Docker.InspectContainer.
func (f *Fake) InspectContainer(ctx context.Context, id string) (dockerstate.Container, error) {
	if err := f.enter(ctx, InspectContainer); err != nil {
		return dockerstate.Container{}, err
	}
	e, ok := f.containers[id]
	if !ok {
		// As the daemon does, take a name too.
		for _, byName := range f.containers {
			if byName.c.Name == id {
				e, ok = byName, true
			}
		}
	}
	if !ok {
		f.mu.Unlock()
		return dockerstate.Container{}, fmt.Errorf("inspect container %s: %w", id, notFound("container", id))
	}
	// An inspect refreshes the agent's cache, which now sees it.
	e.unseen = false
	c, ch := clone(e.c), changed(e)
	f.mu.Unlock()
	f.notify(ch)
	return c, nil
}

func hasHealthcheck(cfg dockerstate.CreateConfig) bool {
	if cfg.HealthCheck == nil {
		return false
	}
	test := cfg.HealthCheck.Test
	return len(test) > 0 && test[0] != "NONE"
}
