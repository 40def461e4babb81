package dockerfake

import (
	"context"
	"fmt"
	"slices"
	"strings"

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

// DeleteImage fakes Docker.DeleteImage as the daemon does without
// force: the last reference of an image some container (in any state) was
// created from is refused with ErrImageInUse; otherwise the reference goes,
// and the image with it when no other reference names it.
func (f *Fake) DeleteImage(ctx context.Context, ref string) (dockerstate.ImageRemoval, error) {
	if err := f.enter(ctx, DeleteImage); err != nil {
		return dockerstate.ImageRemoval{}, err
	}
	img, ok := f.images[ref]
	if !ok {
		f.mu.Unlock()
		return dockerstate.ImageRemoval{}, fmt.Errorf("remove image %s: %w", ref, notFound("image", ref))
	}
	delete(f.images, ref)
	last := !f.imageReferencedLocked(img.ID)
	if last {
		// Like the daemon: another reference may be untagged while a
		// container uses the image, the last one may not.
		for _, e := range f.containers {
			if e.c.Image == ref || e.c.ImageID == img.ID {
				f.images[ref] = img
				f.mu.Unlock()
				return dockerstate.ImageRemoval{}, fmt.Errorf("remove image %s: container %s uses it: %w", ref, e.c.ID, dockerstate.ErrImageInUse)
			}
		}
	}
	out := dockerstate.ImageRemoval{}
	if ref != img.ID {
		out.Untagged = []string{ref}
	}
	if last {
		delete(f.images, img.ID)
		out.Deleted = []string{img.ID}
	}
	f.mu.Unlock()
	f.notify(dockerstate.Change{Kind: dockerstate.ImageChanged, ImageRef: ref})
	return out, nil
}

func (f *Fake) imageReferencedLocked(id string) bool {
	for ref, img := range f.images {
		if ref != id && img.ID == id {
			return true
		}
	}
	return false
}

// ListImages fakes Docker.ListImages, one entry per image id.
func (f *Fake) ListImages(ctx context.Context) ([]dockerstate.Image, error) {
	if err := f.enter(ctx, ListImages); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	return f.listImagesLocked(), nil
}

func (f *Fake) listImagesLocked() []dockerstate.Image {
	byID := map[string]dockerstate.Image{}
	for ref, img := range f.images {
		if ref == img.ID {
			continue
		}
		cur, ok := byID[img.ID]
		if !ok {
			cur = img
			cur.RepoTags = nil
		}
		cur.RepoTags = append(cur.RepoTags, ref)
		byID[img.ID] = cur
	}
	out := make([]dockerstate.Image, 0, len(byID))
	for _, img := range byID {
		slices.Sort(img.RepoTags)
		out = append(out, img)
	}
	slices.SortFunc(out, func(a, b dockerstate.Image) int { return strings.Compare(a.ID, b.ID) })
	return out
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
	for _, img := range f.listImagesLocked() {
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
