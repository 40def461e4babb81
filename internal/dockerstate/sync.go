package dockerstate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/versions"
)

// Reconnect backoff: quick first retries so that a daemon restart costs a
// second or so, capped so that a daemon that stays down is not hammered.
const (
	minReconnectDelay = 200 * time.Millisecond
	maxReconnectDelay = 10 * time.Second
)

// Run keeps the cache in step with the daemon until ctx ends, and then
// returns nil. Each connection lists the task containers, marks the cache
// Synced and announces Resynced, then follows the events stream, relisting
// every RelistInterval. When the daemon goes away Run reconnects with capped
// exponential backoff; the cache keeps the last known state meanwhile.
func (d *Docker) Run(ctx context.Context) error {
	delay := minReconnectDelay
	down := false
	for {
		connected, err := d.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			delay = minReconnectDelay
			down = false
		}
		switch {
		case !down && d.Synced():
			d.outages.lost(time.Now())
			d.log.Error(err, "lost the docker daemon; reconnecting")
			down = true
		case !down:
			d.log.Error(err, "cannot reach the docker daemon; retrying")
			down = true
		default:
			d.log.V(1).Info("docker daemon still unreachable", "error", err.Error(), "retryIn", delay)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		delay = min(2*delay, maxReconnectDelay)
	}
}

// session is one connection to the daemon: subscribe to events, relist,
// follow events until the stream or a relist fails. connected says whether
// the initial relist succeeded, i.e. whether the daemon was really back.
func (d *Docker) session(ctx context.Context) (connected bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	pctx, pcancel := d.callCtx(ctx)
	// The API version is negotiated once, at the first call. Negotiating
	// again on every connection (ForceNegotiate) rewrote the client's
	// version while the reconcilers' calls read it, unlocked, in the
	// client: a data race. A daemon upgraded under the agent still speaks
	// the version agreed; one downgraded below it refuses every call, and
	// says so here.
	ping, err := d.api.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true})
	pcancel()
	if err != nil {
		return false, fmt.Errorf("ping docker daemon: %w", err)
	}
	if v := d.api.ClientVersion(); ping.APIVersion != "" && versions.LessThan(ping.APIVersion, v) {
		d.log.Error(nil, "the docker daemon's API version is older than the one this agent agreed with it at start; the daemon will refuse the agent's calls until the agent restarts",
			"daemonAPIVersion", ping.APIVersion, "agentAPIVersion", v)
	}

	// Subscribe before listing, so that nothing happening between the list
	// and the subscription is missed.
	stream, err := d.subscribeEvents(ctx)
	if err != nil {
		return false, err
	}
	if err := d.relist(ctx, true); err != nil {
		return false, err
	}
	d.outages.back(time.Now())
	wasSynced := d.synced.Swap(true)
	if wasSynced {
		d.log.Info("docker daemon back; cache resynced")
	} else {
		d.log.Info("docker state synced", "containers", len(d.Containers()), "images", d.imageCount())
	}
	d.notify(&Change{Kind: Resynced})

	tick := time.NewTicker(d.opts.RelistInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case err := <-stream.Err:
			if err == nil {
				err = errors.New("events stream closed")
			}
			return true, fmt.Errorf("docker events stream: %w", err)
		case m := <-stream.Messages:
			if err := d.handleEvent(ctx, m); err != nil && IsTransient(err) {
				return true, err
			}
		case <-tick.C:
			if err := d.relist(ctx, false); err != nil {
				if IsTransient(err) {
					return true, err
				}
				d.log.Error(err, "periodic relist failed")
			}
		}
	}
}

// subscribeEvents opens the events stream. The client waits for the
// daemon's response headers without a deadline of its own, so a watchdog
// bounds that wait; the stream itself must stay open.
func (d *Docker) subscribeEvents(ctx context.Context) (client.EventsResult, error) {
	ectx, ecancel := context.WithCancel(ctx)
	watchdog := time.AfterFunc(d.opts.CallTimeout, ecancel)
	stream := d.api.Events(ectx, client.EventsListOptions{
		Filters: client.Filters{}.Add("type", string(events.ContainerEventType), string(events.ImageEventType)),
	})
	if !watchdog.Stop() {
		return client.EventsResult{}, fmt.Errorf("subscribe to docker events: no answer in %s", d.opts.CallTimeout)
	}
	// ecancel is kept alive by the stream and released with ctx.
	context.AfterFunc(ctx, ecancel)
	select {
	case err := <-stream.Err:
		if err == nil {
			err = errors.New("events stream closed")
		}
		return client.EventsResult{}, fmt.Errorf("subscribe to docker events: %w", err)
	default:
		return stream, nil
	}
}

// relist brings the cache in line with a fresh List of the task containers
// and of the images; full inspects every task container (see
// relistContainers).
func (d *Docker) relist(ctx context.Context, full bool) error {
	if err := d.relistContainers(ctx, full); err != nil {
		return err
	}
	return d.relistImages(ctx)
}

// relistContainers compares the cache with a fresh List of the task
// containers. A listed container is inspected when the cache lacks it or
// when the List shows it in another state, health or exit code than the
// cache: with 200 idle tasks the periodic backstop then costs one List, not
// 200 inspects. full inspects every listed one, for the first relist of a
// connection, since a daemon that was away may have changed what the List
// does not show. Every cached container the List lacks is inspected too
// rather than dropped, because it may have been created after the List was
// taken. Inspect finds out which are really gone, which is what an
// events-only cache (the ECS agent's #364) never learns.
func (d *Docker) relistContainers(ctx context.Context, full bool) error {
	lctx, cancel := d.callCtx(ctx)
	res, err := d.api.ContainerList(lctx, client.ContainerListOptions{
		All:     true,
		Filters: client.Filters{}.Add("label", LabelTaskARN),
	})
	cancel()
	if err != nil {
		return fmt.Errorf("list task containers: %w", err)
	}
	stale := make(map[string]bool, len(res.Items))
	listed := make(map[string]bool, len(res.Items))
	d.mu.RLock()
	for _, s := range res.Items {
		listed[s.ID] = true
		if c, ok := d.containers[s.ID]; full || !ok || !summaryMatches(&c, string(s.State), s.Status) {
			stale[s.ID] = true
		}
	}
	for id := range d.containers {
		if !listed[id] {
			stale[id] = true
		}
	}
	d.mu.RUnlock()
	for id := range stale {
		_, err := d.refresh(ctx, id)
		switch {
		case err == nil, errors.Is(err, ErrNotFound):
		case IsTransient(err):
			return err
		default:
			d.log.Error(err, "relist: inspect failed", "container", id, "listed", listed[id])
		}
	}
	return nil
}

// summaryMatches says whether a List entry's state and status text
// ("Up 2 hours (healthy)", "Exited (137) 5 seconds ago") agree with what
// the cache holds; when they do, an inspect would show nothing new that
// events have not already brought.
func summaryMatches(c *Container, state, status string) bool {
	health := c.Health
	if health == "none" { // a healthcheck disabled by the image: List shows nothing
		health = ""
	}
	if c.State != state || summaryHealth(status) != health {
		return false
	}
	if state != StateExited {
		return true
	}
	code, ok := summaryExitCode(status)
	return ok && code == c.ExitCode
}

// summaryHealth is the health a List status text shows, as inspect names it.
func summaryHealth(status string) string {
	switch {
	case strings.Contains(status, "(healthy)"):
		return "healthy"
	case strings.Contains(status, "(unhealthy)"):
		return "unhealthy"
	case strings.Contains(status, "(health: starting)"):
		return "starting"
	}
	return ""
}

// summaryExitCode is the exit code in an "Exited (N) …" status text.
func summaryExitCode(status string) (int, bool) {
	rest, ok := strings.CutPrefix(status, "Exited (")
	if !ok {
		return 0, false
	}
	n, _, ok := strings.Cut(rest, ")")
	if !ok {
		return 0, false
	}
	code, err := strconv.Atoi(n)
	return code, err == nil
}

// handleEvent updates the cache for one event. Only the events that change
// what inspect shows are followed; health checks alone produce an exec event
// trio every interval, and those change nothing until health_status.
func (d *Docker) handleEvent(ctx context.Context, m events.Message) error {
	switch m.Type {
	case events.ImageEventType:
		return d.handleImageEvent(ctx, m)
	case events.ContainerEventType:
	default:
		return nil
	}
	id := m.Actor.ID
	if m.Actor.Attributes[LabelTaskARN] == "" {
		if _, cached := d.Container(id); !cached {
			return nil // not a task container
		}
	}
	switch {
	case m.Action == events.ActionDestroy:
		unlock := d.idLocks.lock(id)
		ch := d.forget(id)
		unlock()
		d.notify(ch)
		return nil
	case followedAction(m.Action):
		_, err := d.refresh(ctx, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			d.log.V(1).Info("inspect after event failed", "container", id, "action", string(m.Action), "error", err.Error())
			return err
		}
	}
	return nil
}

// followedAction says which events are followed by an inspect. Not kill
// and stop: a kill (sent before the signal) changes nothing an inspect
// shows, and the die that an exit brings (before stop's event) carries the
// change. Following them was worse than useless: the daemon answers an
// inspect of an exiting container only when its exit is handled, so the
// kill's inspect held the events loop up and the die behind it waited (in
// P5, up to 370 ms at the 99th percentile under load).
func followedAction(a events.Action) bool {
	switch a {
	case events.ActionCreate, events.ActionStart, events.ActionRestart, events.ActionDie,
		events.ActionOOM, events.ActionPause,
		events.ActionUnPause, events.ActionRename, events.ActionUpdate:
		return true
	}
	// "health_status: healthy" and friends carry the status after a colon.
	return strings.HasPrefix(string(a), string(events.ActionHealthStatus))
}
