package dockerfake

import (
	"context"
	"fmt"
	"slices"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// The methods image cleanup uses.
const (
	DeleteImage Method = "DeleteImage"
	ListImages  Method = "ListImages"
	DataDisk    Method = "DataDisk"
)

// fakeDiskTotal is the pretend data disk's size unless SetDisk says
// otherwise.
const fakeDiskTotal = 100 << 30

// DeleteImage fakes Docker.DeleteImage as the daemon does it without
// force: removing a name of an image that has others only untags it; the
// last name, or the id of an image with one name, goes with the image,
// which is refused with ErrImageInUse while some container (in any state)
// was created from it; the id of an image with several names is refused
// too.
func (f *Fake) DeleteImage(ctx context.Context, ref string) (dockerstate.ImageRemoval, error) {
	if err := f.enter(ctx, DeleteImage); err != nil {
		return dockerstate.ImageRemoval{}, err
	}
	out, err := f.deleteImageLocked(ref)
	f.mu.Unlock()
	if err == nil {
		f.notify(dockerstate.Change{Kind: dockerstate.ImageChanged, ImageRef: ref})
	}
	return out, err
}

func (f *Fake) deleteImageLocked(ref string) (dockerstate.ImageRemoval, error) {
	img, ok, err := f.images.Resolve(ref)
	switch {
	case err != nil:
		return dockerstate.ImageRemoval{}, fmt.Errorf("remove image %s: %w", ref, err)
	case !ok:
		return dockerstate.ImageRemoval{}, fmt.Errorf("remove image %s: %w", ref, notFound("image", ref))
	}
	names := append(slices.Clone(img.RepoTags), img.RepoDigests...)
	out := dockerstate.ImageRemoval{Deleted: []string{img.ID}}
	if rest, byName := f.images.Untag(ref); byName {
		out.Untagged = []string{ref}
		if len(rest.RepoTags)+len(rest.RepoDigests) > 0 {
			return dockerstate.ImageRemoval{Untagged: out.Untagged}, nil
		}
		f.images.Put(img) // not gone yet: the image may be in use
	} else if len(names) > 1 {
		return dockerstate.ImageRemoval{}, fmt.Errorf("remove image %s: it is referenced in multiple repositories: %w", ref, dockerstate.ErrImageInUse)
	} else {
		out.Untagged = names
	}
	for _, e := range f.containers {
		if e.c.ImageID == img.ID || e.c.Image == ref {
			return dockerstate.ImageRemoval{}, fmt.Errorf("remove image %s: container %s uses it: %w", ref, e.c.ID, dockerstate.ErrImageInUse)
		}
	}
	f.images.Delete(img.ID)
	return out, nil
}

// ListImages fakes Docker.ListImages, one entry per image id.
func (f *Fake) ListImages(ctx context.Context) ([]dockerstate.Image, error) {
	if err := f.enter(ctx, ListImages); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	return f.images.Images(), nil
}

// DataDisk fakes Docker.DataDisk: a pretend disk of SetDisk's size
// whose used bytes are SetDisk's base plus the sizes of the present images,
// so removing an image frees its size.
func (f *Fake) DataDisk(ctx context.Context) (dockerstate.DiskUsage, error) {
	if err := f.enter(ctx, DataDisk); err != nil {
		return dockerstate.DiskUsage{}, err
	}
	defer f.mu.Unlock()
	total := f.diskTotal
	if total == 0 {
		total = fakeDiskTotal
	}
	used := f.diskBase
	for _, img := range f.images.Images() {
		used += uint64(img.Size)
	}
	return dockerstate.DiskUsage{Path: "/var/lib/docker", Total: total, Available: total - min(used, total)}, nil
}

// SetDisk sizes the pretend data disk: total bytes, of which base are used
// by things other than images.
func (f *Fake) SetDisk(total, base uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.diskTotal, f.diskBase = total, base
}
