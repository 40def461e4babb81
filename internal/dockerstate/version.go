package dockerstate

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"
)

// Version is what the daemon says of itself: its release and the API
// versions it serves (the control plane registers capabilities from them).
type Version struct {
	Version       string
	APIVersion    string
	MinAPIVersion string
}

// Version asks the daemon for its version.
func (d *Docker) Version(ctx context.Context) (Version, error) {
	ctx, cancel := d.callCtx(ctx)
	defer cancel()
	v, err := d.api.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return Version{}, fmt.Errorf("docker version: %w", err)
	}
	return Version{Version: v.Version, APIVersion: v.APIVersion, MinAPIVersion: v.MinAPIVersion}, nil
}

// CgroupDriver asks the daemon which cgroup driver it uses: "cgroupfs" or
// "systemd", which decides how a container's cgroup parent is named.
func (d *Docker) CgroupDriver(ctx context.Context) (string, error) {
	ctx, cancel := d.callCtx(ctx)
	defer cancel()
	res, err := d.api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return "", fmt.Errorf("docker info: %w", err)
	}
	return res.Info.CgroupDriver, nil
}
