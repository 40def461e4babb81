package dockerstate

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
)

// fromInspect turns the daemon's inspect answer into the cache's Container.
func fromInspect(r *container.InspectResponse) Container {
	c := Container{
		ID:        r.ID,
		Name:      strings.TrimPrefix(r.Name, "/"),
		ImageID:   r.Image,
		CreatedAt: parseTime(r.Created),
	}
	if r.Config != nil {
		c.Image = r.Config.Image
		c.Labels = r.Config.Labels
		c.StopSignal = r.Config.StopSignal
	}
	if s := r.State; s != nil {
		c.State = string(s.Status)
		c.ExitCode = s.ExitCode
		c.OOMKilled = s.OOMKilled
		c.Error = s.Error
		c.StartedAt = parseTime(s.StartedAt)
		c.FinishedAt = parseTime(s.FinishedAt)
		if h := s.Health; h != nil {
			c.Health = string(h.Status)
			if n := len(h.Log); n > 0 && h.Log[n-1] != nil {
				c.HealthOutput = h.Log[n-1].Output
			}
		}
	}
	if r.HostConfig != nil {
		c.NetworkMode = string(r.HostConfig.NetworkMode)
		if c.NetworkMode == "default" {
			c.NetworkMode = "bridge" // what "default" is on Linux
		}
	}
	if r.NetworkSettings != nil {
		c.Ports = portBindings(r)
		c.Networks = networks(r)
	}
	for _, m := range r.Mounts {
		c.Mounts = append(c.Mounts, Mount{Source: m.Source, Target: m.Destination, ReadOnly: !m.RW, Name: m.Name})
	}
	slices.SortFunc(c.Mounts, func(a, b Mount) int { return cmp.Compare(a.Target, b.Target) })
	return c
}

// networks lists the container's networks by name, with its addresses.
func networks(r *container.InspectResponse) []Network {
	var out []Network
	for name, ep := range r.NetworkSettings.Networks {
		n := Network{Name: name}
		if ep != nil {
			if ep.IPAddress.IsValid() {
				n.IPv4 = ep.IPAddress.String()
			}
			if ep.GlobalIPv6Address.IsValid() {
				n.IPv6 = ep.GlobalIPv6Address.String()
			}
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Network) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// portBindings lists the published ports, sorted so that two inspects of an
// unchanged container compare equal.
func portBindings(r *container.InspectResponse) []PortBinding {
	var out []PortBinding
	for port, bindings := range r.NetworkSettings.Ports {
		for _, b := range bindings {
			hostPort, err := strconv.ParseInt(b.HostPort, 10, 32)
			if err != nil {
				continue // exposed but not published
			}
			pb := PortBinding{
				ContainerPort: int32(port.Num()),
				HostPort:      int32(hostPort),
				Protocol:      string(port.Proto()),
			}
			if b.HostIP.IsValid() {
				pb.HostIP = b.HostIP.String()
			}
			out = append(out, pb)
		}
	}
	SortPortBindings(out)
	return out
}

// SortPortBindings puts bindings in the order the cache keeps them (by
// container port, protocol, host address, host port), so that two inspects
// of an unchanged container compare equal.
func SortPortBindings(bs []PortBinding) {
	slices.SortFunc(bs, func(a, b PortBinding) int {
		return cmp.Or(
			cmp.Compare(a.ContainerPort, b.ContainerPort),
			cmp.Compare(a.Protocol, b.Protocol),
			cmp.Compare(a.HostIP, b.HostIP),
			cmp.Compare(a.HostPort, b.HostPort),
		)
	})
}

// parseTime reads Docker's RFC 3339 times; Docker writes the zero time
// ("0001-01-01T00:00:00Z") for events that have not happened, which parses
// to the zero time.Time as wanted.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
