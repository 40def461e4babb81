package dockerstate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// ErrImageInUse is returned (wrapped) when the daemon refuses to remove an
// image because a container, running or not, was created from it.
var ErrImageInUse = errors.New("image is in use by a container")

// ImageRemoval is what removing one image reference did.
type ImageRemoval struct {
	// Untagged are the references the daemon untagged.
	Untagged []string
	// Deleted are the image and layer ids the daemon deleted; empty when
	// the image lives on under another reference.
	Deleted []string
}

// DiskUsage is the state of the filesystem holding the daemon's data.
type DiskUsage struct {
	// Path is the daemon's data root (DockerRootDir in docker info).
	Path string
	// Total and Available are bytes, Available as an unprivileged writer
	// sees it (statfs f_bavail), as the kubelet counts it.
	Total, Available uint64
}

// UsedPercent is how full the disk is, 0–100.
func (u DiskUsage) UsedPercent() float64 {
	if u.Total == 0 {
		return 0
	}
	return 100 * float64(u.Total-min(u.Available, u.Total)) / float64(u.Total)
}

// DeleteImage removes one image reference (or id). It never forces: the
// daemon refuses while a container uses the image (ErrImageInUse), which is
// the last guard against removing an image a task is starting with, and
// removing a reference of an image that has other references only untags
// it. The image cache shows the removal before DeleteImage returns.
func (d *Docker) DeleteImage(ctx context.Context, ref string) (ImageRemoval, error) {
	ctx, cancel := d.slowCallCtx(ctx)
	defer cancel()
	res, err := d.api.ImageRemove(ctx, ref, client.ImageRemoveOptions{PruneChildren: true})
	switch {
	case cerrdefs.IsConflict(err):
		return ImageRemoval{}, fmt.Errorf("remove image %s: %w: %w", ref, ErrImageInUse, err)
	case err != nil:
		return ImageRemoval{}, notFound(err, "remove image "+ref)
	}
	var out ImageRemoval
	for _, item := range res.Items {
		if item.Untagged != "" {
			out.Untagged = append(out.Untagged, item.Untagged)
		}
		if item.Deleted != "" {
			out.Deleted = append(out.Deleted, item.Deleted)
		}
	}
	d.afterImageRemoval(ctx, ref, out)
	return out, nil
}

// ListImages asks the daemon for every tagged or dangling top-level image.
func (d *Docker) ListImages(ctx context.Context) ([]Image, error) {
	ctx, cancel := d.callCtx(ctx)
	defer cancel()
	res, err := d.api.ImageList(ctx, client.ImageListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	out := make([]Image, 0, len(res.Items))
	for _, s := range res.Items {
		out = append(out, Image{ID: s.ID, RepoTags: s.RepoTags, RepoDigests: s.RepoDigests, Size: s.Size, Created: time.Unix(s.Created, 0)})
	}
	return out, nil
}

// DataDisk reports the usage of the disk holding the daemon's data: statfs
// of the data root docker info names. The agent must see the same
// filesystem as the daemon (it does when it runs on the host, or in a
// container that mounts it).
func (d *Docker) DataDisk(ctx context.Context) (DiskUsage, error) {
	ctx, cancel := d.callCtx(ctx)
	defer cancel()
	info, err := d.api.Info(ctx, client.InfoOptions{})
	if err != nil {
		return DiskUsage{}, fmt.Errorf("docker info for its data root: %w", err)
	}
	return statDisk(info.Info.DockerRootDir)
}

func statDisk(path string) (DiskUsage, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return DiskUsage{}, fmt.Errorf("statfs docker data root %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	return DiskUsage{Path: path, Total: st.Blocks * bs, Available: st.Bavail * bs}, nil
}

// ImportImage makes an image named ref from a root filesystem (a tar
// stream, as docker import takes it) with the given entrypoint, and puts
// it in the cache before it returns.
func (d *Docker) ImportImage(ctx context.Context, ref string, rootfs io.Reader, entrypoint []string) error {
	ep, err := json.Marshal(entrypoint)
	if err != nil {
		return fmt.Errorf("import image %s: entrypoint: %w", ref, err)
	}
	cctx, cancel := d.slowCallCtx(ctx)
	defer cancel()
	res, err := d.api.ImageImport(cctx, client.ImageImportSource{Source: rootfs, SourceName: "-"}, ref,
		client.ImageImportOptions{Changes: []string{"ENTRYPOINT " + string(ep)}})
	if err != nil {
		return fmt.Errorf("import image %s: %w", ref, err)
	}
	// The daemon reports the import's progress, and its failure, in the body.
	msg, err := io.ReadAll(res)
	_ = res.Close()
	if err != nil {
		return fmt.Errorf("import image %s: %w", ref, err)
	}
	if bytes.Contains(msg, []byte(`"error"`)) {
		return fmt.Errorf("import image %s: %s", ref, bytes.TrimSpace(msg))
	}
	return d.cachePulled(ctx, ref)
}

// ImageEnv is the environment an image's config sets (its ENV lines), as
// NAME=value pairs: what a container created from it starts with unless
// its own environment says otherwise.
func (d *Docker) ImageEnv(ctx context.Context, ref string) ([]string, error) {
	ctx, cancel := d.callCtx(ctx)
	defer cancel()
	res, err := d.api.ImageInspect(ctx, ref)
	if err != nil {
		return nil, notFound(err, "inspect image "+ref)
	}
	if res.Config == nil {
		return nil, nil
	}
	return res.Config.Env, nil
}
