package dockerstate

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/moby/moby/client"
)

// InfoJSON is the daemon's `docker info` as indented JSON, for a support
// bundle. The daemon masks credentials in its proxy settings itself.
func (d *Docker) InfoJSON(ctx context.Context) ([]byte, error) {
	ctx, cancel := d.callCtx(ctx)
	defer cancel()
	info, err := d.api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return nil, fmt.Errorf("docker info: %w", err)
	}
	return json.MarshalIndent(info.Info, "", "  ")
}

// VersionJSON is the daemon's `docker version` as indented JSON: its
// components, API versions, Go version and platform.
func (d *Docker) VersionJSON(ctx context.Context) ([]byte, error) {
	ctx, cancel := d.callCtx(ctx)
	defer cancel()
	v, err := d.api.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return nil, fmt.Errorf("docker version: %w", err)
	}
	return json.MarshalIndent(v, "", "  ")
}
