package dockerstate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// CreateContainer creates a container. The new container is inspected into the
// cache before CreateContainer returns; if that inspect fails, a placeholder
// built from cfg stands in until the create event or the next relist brings
// the real state. Either way the caller gets the id, because a caller that
// saw an error here would create the container a second time.
//
// When the daemon creates the container but warns that it will not apply
// part of cfg (no swap limit support, ports discarded in host mode, …), the
// container would run differently from what was asked: it is removed again
// and the error is a *NotAppliedError naming the warnings.
func (d *Docker) CreateContainer(ctx context.Context, cfg CreateConfig) (Container, error) {
	opts, err := cfg.createOptions()
	if err != nil {
		return Container{}, fmt.Errorf("create container %s: %w", cfg.Name, err)
	}
	cctx, cancel := d.slowCallCtx(ctx)
	defer cancel()
	res, err := d.api.ContainerCreate(cctx, opts)
	if cerrdefs.IsConflict(err) {
		return Container{}, fmt.Errorf("create container %s: %w: %w", cfg.Name, ErrNameInUse, err)
	}
	if err != nil {
		return Container{}, notFound(err, "create container "+cfg.Name)
	}
	if len(res.Warnings) > 0 {
		return Container{}, d.refuseWarned(ctx, cfg.Name, res.ID, res.Warnings)
	}
	c, err := d.refresh(ctx, res.ID)
	if err == nil {
		return c, nil
	}
	d.log.Info("inspect after create failed; caching a placeholder", "container", cfg.Name, "id", res.ID, "error", err.Error())
	c = Container{ID: res.ID, Name: cfg.Name, State: StateCreated, Image: cfg.Image, Labels: maps.Clone(cfg.Labels), StopSignal: cfg.StopSignal}
	d.notify(d.put(c))
	return c.clone(), nil
}

// NotAppliedError says the daemon created a container but would not apply
// part of its configuration, in the daemon's words.
type NotAppliedError struct {
	Container string
	Warnings  []string
}

// Error names the container and quotes the daemon.
func (e *NotAppliedError) Error() string {
	return fmt.Sprintf("create container %s: Docker would not apply the configuration as asked: %s", e.Container, strings.Join(e.Warnings, "; "))
}

func (d *Docker) refuseWarned(ctx context.Context, name, id string, warnings []string) error {
	nae := &NotAppliedError{Container: name, Warnings: warnings}
	if err := d.RemoveContainer(ctx, id, true); err != nil {
		return errors.Join(nae, fmt.Errorf("remove the container Docker warned about: %w", err))
	}
	return nae
}

// StartContainer starts a created container. The cache learns of the start from the
// event; callers wanting the new state at once call InspectContainer.
func (d *Docker) StartContainer(ctx context.Context, id string) error {
	ctx, cancel := d.slowCallCtx(ctx)
	defer cancel()
	if _, err := d.api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return notFound(err, "start container "+id)
	}
	return nil
}

// SignalContainer sends a signal ("SIGTERM", "SIGKILL", …) to a container.
func (d *Docker) SignalContainer(ctx context.Context, id, signal string) error {
	ctx, cancel := d.callCtx(ctx)
	defer cancel()
	if _, err := d.api.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: signal}); err != nil {
		return notFound(err, fmt.Sprintf("send %s to container %s", signal, id))
	}
	return nil
}

// RemoveContainer removes a container and drops it from the cache. Removal is forced: the agent removes a
// container only once its task is done with it, and a container that ignored
// its stop signals must not outlive the task.
func (d *Docker) RemoveContainer(ctx context.Context, id string, removeVolumes bool) error {
	cctx, cancel := d.slowCallCtx(ctx)
	defer cancel()
	_, err := d.api.ContainerRemove(cctx, id, client.ContainerRemoveOptions{RemoveVolumes: removeVolumes, Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	unlock := d.idLocks.lock(id)
	ch := d.forget(id)
	unlock()
	d.notify(ch)
	if err != nil {
		return notFound(err, "remove container "+id)
	}
	return nil
}

// InspectContainer asks the daemon about a container and refreshes the
// cache with the answer.
func (d *Docker) InspectContainer(ctx context.Context, id string) (Container, error) {
	return d.refresh(ctx, id)
}

// EnsureVolume creates the named volume unless it exists. An existing volume is left as it is, even
// if its driver differs: it may hold a task's data.
func (d *Docker) EnsureVolume(ctx context.Context, name, driver string, driverOpts, labels map[string]string) error {
	ictx, cancel := d.callCtx(ctx)
	_, err := d.api.VolumeInspect(ictx, name, client.VolumeInspectOptions{})
	cancel()
	switch {
	case err == nil:
		return nil
	case !cerrdefs.IsNotFound(err):
		return fmt.Errorf("inspect volume %s: %w", name, err)
	}
	cctx, cancel := d.slowCallCtx(ctx)
	defer cancel()
	_, err = d.api.VolumeCreate(cctx, client.VolumeCreateOptions{
		Name: name, Driver: driver, DriverOpts: driverOpts, Labels: labels,
	})
	if err != nil {
		return fmt.Errorf("create volume %s (driver %q): %w", name, driver, err)
	}
	return nil
}

// RemoveVolume removes the named volume.
func (d *Docker) RemoveVolume(ctx context.Context, name string) error {
	ctx, cancel := d.slowCallCtx(ctx)
	defer cancel()
	if _, err := d.api.VolumeRemove(ctx, name, client.VolumeRemoveOptions{}); err != nil {
		return notFound(err, "remove volume "+name)
	}
	return nil
}
