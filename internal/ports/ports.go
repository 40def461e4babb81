// Package ports hands out host ports to task containers.
//
// The agent, not Docker, picks host ports for dynamic mappings, as the ECS
// agent does: it needs to know them before the container exists (to report
// them, and to never hand one out twice across restarts). Each port held is a
// PortAllocation object named after the port, so creating the object in the
// store is the allocation itself: one bbolt transaction, and a second task
// asking for the same port gets ErrAlreadyExists.
package ports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Range is an inclusive range of host ports.
type Range struct {
	Start, End int32
}

// Options configure an Allocator.
type Options struct {
	// Dynamic is where hostPort 0 mappings are served from.
	Dynamic Range
	// ReservedTCP and ReservedUDP are never handed out for dynamic mappings
	// (ECS_RESERVED_PORTS, ECS_RESERVED_PORTS_UDP).
	ReservedTCP []int32
	ReservedUDP []int32
	// CanBind reports whether the port can be bound on the host now. Nil
	// means binding it on all addresses and closing it again.
	CanBind func(protocol string, port int32) error
}

// Allocator allocates host ports as PortAllocation objects.
type Allocator struct {
	store    store.Store
	opts     Options
	reserved map[string]map[int32]bool

	mu   sync.Mutex
	next map[string]int32 // per protocol: where the next dynamic scan starts
}

// ErrUnavailable is wrapped by errors that mean the task asked for a port it
// cannot have: retrying will not help until the holder lets it go.
var ErrUnavailable = errors.New("host port unavailable")

// ErrPending is wrapped by errors that mean the port will be free soon: its
// holder is stopping. Retry later.
var ErrPending = errors.New("host port still held")

// New returns an Allocator over the store.
func New(s store.Store, opts Options) *Allocator {
	if opts.CanBind == nil {
		opts.CanBind = bindCheck
	}
	res := map[string]map[int32]bool{"tcp": {}, "udp": {}}
	for _, p := range opts.ReservedTCP {
		res["tcp"][p] = true
	}
	for _, p := range opts.ReservedUDP {
		res["udp"][p] = true
	}
	return &Allocator{store: s, opts: opts, reserved: res, next: map[string]int32{}}
}

// Allocate returns the host port bindings for every port mapping of the
// container, creating the allocations it does not hold yet. It is
// idempotent: a container that already holds its ports gets the same ones
// back, which is what keeps ports across an agent restart. For host network
// mode the host port is the container port.
func (a *Allocator) Allocate(ctx context.Context, task *apiv1.Task, c *apiv1.ContainerSpec) ([]apiv1.PortBinding, error) {
	if len(c.PortMappings) == 0 {
		return nil, nil
	}
	var list apiv1.PortAllocationList
	if err := a.store.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list port allocations: %w", err)
	}
	held := map[string]*apiv1.PortAllocation{}
	for i := range list.Items {
		pa := &list.Items[i]
		if pa.Spec.Task == task.Name && pa.Spec.Container == c.Name {
			held[mappingKey(pa.Spec.Protocol, pa.Spec.ContainerPort)] = pa
		}
	}
	var out []apiv1.PortBinding
	for _, pm := range c.PortMappings {
		proto := Protocol(pm.Protocol)
		if pa, ok := held[mappingKey(proto, pm.ContainerPort)]; ok {
			out = append(out, binding(pa))
			continue
		}
		hostPort := pm.HostPort
		if task.Spec.NetworkMode == apiv1.NetworkModeHost {
			hostPort = pm.ContainerPort
		}
		want := apiv1.PortAllocation{Spec: apiv1.PortAllocationSpec{
			Protocol: proto, Task: task.Name, Container: c.Name,
			ContainerPort: pm.ContainerPort, HostPort: hostPort, Dynamic: hostPort == 0,
		}}
		var err error
		if hostPort == 0 {
			err = a.allocateDynamic(ctx, &want, &list)
		} else {
			err = a.allocateStatic(ctx, &want)
		}
		if err != nil {
			return nil, fmt.Errorf("container %s port %d/%s: %w", c.Name, pm.ContainerPort, proto, err)
		}
		out = append(out, binding(&want))
	}
	return out, nil
}

func (a *Allocator) allocateStatic(ctx context.Context, pa *apiv1.PortAllocation) error {
	if a.reserved[pa.Spec.Protocol][pa.Spec.HostPort] {
		// ECS never places such a task (the instance does not offer the
		// port); a static task asking for it is refused the same way.
		return fmt.Errorf("%w: host port %d/%s is reserved on this instance (ECS_RESERVED_PORTS, ECS_RESERVED_PORTS_UDP, and the agent's own ports)",
			ErrUnavailable, pa.Spec.HostPort, pa.Spec.Protocol)
	}
	pa.Name = apiv1.PortAllocationName(pa.Spec.Protocol, pa.Spec.HostPort)
	err := a.store.Create(ctx, pa)
	if errors.Is(err, store.ErrAlreadyExists) {
		err = a.takeOver(ctx, pa)
	}
	if err != nil {
		return err
	}
	// Checked after the allocation is recorded so that a port our own task
	// is already bound to (an adopted container) is not refused; a failed
	// check gives the port back.
	if err := a.opts.CanBind(pa.Spec.Protocol, pa.Spec.HostPort); err != nil {
		_ = a.store.Delete(ctx, pa)
		return fmt.Errorf("%w: host port %d/%s is in use on this host: %v", ErrUnavailable, pa.Spec.HostPort, pa.Spec.Protocol, err)
	}
	return nil
}

// takeOver decides what to do about a static port another task holds. A
// holder that is stopping will let go soon (a static task file that changed
// stops the old task and starts the new one with the same ports): the caller
// retries. A holder that is stopped or gone left a stale allocation, which is
// taken over. Anyone else keeps the port.
func (a *Allocator) takeOver(ctx context.Context, pa *apiv1.PortAllocation) error {
	var holder apiv1.PortAllocation
	if err := a.store.Get(ctx, pa.Name, &holder); err != nil {
		return fmt.Errorf("look up holder of host port %d/%s: %w", pa.Spec.HostPort, pa.Spec.Protocol, err)
	}
	var task apiv1.Task
	err := a.store.Get(ctx, holder.Spec.Task, &task)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && task.Status.KnownStatus == apiv1.StatusStopped):
		if err := a.store.Delete(ctx, &holder); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("release stale allocation of host port %d/%s: %w", pa.Spec.HostPort, pa.Spec.Protocol, err)
		}
		if err := a.store.Create(ctx, pa); err != nil {
			return fmt.Errorf("allocate host port %d/%s: %w", pa.Spec.HostPort, pa.Spec.Protocol, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("look up task %s holding host port %d/%s: %w", holder.Spec.Task, pa.Spec.HostPort, pa.Spec.Protocol, err)
	case task.Spec.DesiredStatus == apiv1.StatusStopped || task.Status.StoppingReason != "":
		return fmt.Errorf("%w: host port %d/%s is held by task %s, which is stopping", ErrPending, pa.Spec.HostPort, pa.Spec.Protocol, holder.Spec.Task)
	}
	return fmt.Errorf("%w: host port %d/%s is held by task %s container %s",
		ErrUnavailable, pa.Spec.HostPort, pa.Spec.Protocol, holder.Spec.Task, holder.Spec.Container)
}

func (a *Allocator) allocateDynamic(ctx context.Context, pa *apiv1.PortAllocation, list *apiv1.PortAllocationList) error {
	taken := map[string]bool{}
	for _, item := range list.Items {
		taken[item.Name] = true
	}
	proto := pa.Spec.Protocol
	r := a.opts.Dynamic
	size := r.End - r.Start + 1
	if size <= 0 {
		return fmt.Errorf("%w: empty dynamic host port range %d-%d", ErrUnavailable, r.Start, r.End)
	}
	a.mu.Lock()
	start := a.next[proto]
	a.mu.Unlock()
	for i := int32(0); i < size; i++ {
		port := r.Start + (start+i)%size
		name := apiv1.PortAllocationName(proto, port)
		if taken[name] || a.reserved[proto][port] || a.opts.CanBind(proto, port) != nil {
			continue
		}
		pa.Name = name
		pa.Spec.HostPort = port
		err := a.store.Create(ctx, pa)
		if errors.Is(err, store.ErrAlreadyExists) {
			continue // another task took it since we listed
		}
		if err != nil {
			return fmt.Errorf("allocate host port %d/%s: %w", port, proto, err)
		}
		// Scan on from here next time, as the ECS agent does, so a port
		// just released is not reused at once.
		a.mu.Lock()
		a.next[proto] = (start + i + 1) % size
		a.mu.Unlock()
		return nil
	}
	return fmt.Errorf("%w: no free %s port in the dynamic range %d-%d", ErrUnavailable, proto, r.Start, r.End)
}

// Protocol normalises a port mapping protocol: tcp unless udp.
func Protocol(p string) string {
	if p == "udp" {
		return "udp"
	}
	return "tcp"
}

func mappingKey(proto string, containerPort int32) string {
	return proto + "/" + strconv.Itoa(int(containerPort))
}

func binding(pa *apiv1.PortAllocation) apiv1.PortBinding {
	return apiv1.PortBinding{
		ContainerPort: pa.Spec.ContainerPort, HostPort: pa.Spec.HostPort,
		Protocol: pa.Spec.Protocol, BindIP: "0.0.0.0",
	}
}

// bindCheck binds the port on all addresses and lets it go again.
func bindCheck(protocol string, port int32) error {
	addr := net.JoinHostPort("", strconv.Itoa(int(port)))
	if protocol == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}
