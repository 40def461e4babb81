package dockerstate

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
)

// The image cache is an ImageIndex under d.mu, filled by the List of every
// session (at start and after a reconnect) and every periodic relist, and
// kept current between them by image events and by the agent's own pulls
// and removals. Everything that reads the daemon's images and writes the
// index does both under d.imageSync, so the last write always carries the
// latest answer: a relist's List can never overwrite what an event's
// inspect, made after it, found.

// ImagePresent reports whether ref resolves to a local image, resolving it
// as the daemon does (see ImageIndex), and which image. It answers from the
// cache, without a daemon round trip; only before the first List has filled
// the cache does it ask the daemon. The error is for a string that is no
// image reference, or a daemon that could not answer before the first List.
func (d *Docker) ImagePresent(ctx context.Context, ref string) (Image, bool, error) {
	if !d.Synced() {
		return d.inspectImage(ctx, ref)
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	img, ok, err := d.images.Resolve(ref)
	if err != nil {
		return Image{}, false, fmt.Errorf("look up image: %w", err)
	}
	return img, ok, nil
}

// inspectImage asks the daemon about one image; false when it has none.
func (d *Docker) inspectImage(ctx context.Context, ref string) (Image, bool, error) {
	ctx, cancel := d.callCtx(ctx)
	defer cancel()
	res, err := d.api.ImageInspect(ctx, ref)
	switch {
	case cerrdefs.IsNotFound(err):
		return Image{}, false, nil
	case err != nil:
		return Image{}, false, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return Image{
		ID:          res.ID,
		RepoTags:    res.RepoTags,
		RepoDigests: res.RepoDigests,
		Size:        res.Size,
		Created:     parseTime(res.Created),
	}, true, nil
}

// relistImages replaces the image cache with a fresh List and announces
// each image that came, went or changed.
func (d *Docker) relistImages(ctx context.Context) error {
	d.imageSync.Lock()
	imgs, err := d.ListImages(ctx)
	var changed []string
	if err == nil {
		d.mu.Lock()
		changed = d.images.Replace(imgs)
		d.mu.Unlock()
	}
	d.imageSync.Unlock()
	d.announceImages(changed)
	return err
}

// refreshImages inspects each reference or id and brings the cache in line
// with the answer: the image stored with its current names, or, when the
// daemon has no such image, the id dropped or the name untagged. It
// announces what changed, and returns the first error other than not found.
func (d *Docker) refreshImages(ctx context.Context, refs ...string) error {
	d.imageSync.Lock()
	var changed []string
	var firstErr error
	for _, ref := range refs {
		img, present, err := d.inspectImage(ctx, ref)
		switch {
		case err != nil:
			if firstErr == nil {
				firstErr = err
			}
		case present:
			changed = append(changed, d.putImage(img)...)
		default:
			changed = append(changed, d.forgetImages(ref)...)
		}
	}
	d.imageSync.Unlock()
	d.announceImages(changed)
	return firstErr
}

// putImage stores img in the cache; it returns the image's id when that
// changed the cache.
func (d *Docker) putImage(img Image) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.images.Put(img) {
		return []string{img.ID}
	}
	return nil
}

// forgetImages drops from the cache what each ref names: the image, when
// ref is its id, else the name. It returns the refs that changed the cache.
func (d *Docker) forgetImages(refs ...string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var changed []string
	for _, ref := range refs {
		if d.images.Delete(ref) {
			changed = append(changed, ref)
		} else if _, untagged := d.images.Untag(ref); untagged {
			changed = append(changed, ref)
		}
	}
	return changed
}

func (d *Docker) announceImages(refs []string) {
	for _, ref := range refs {
		d.notify(&Change{Kind: ImageChanged, ImageRef: ref})
	}
}

// handleImageEvent refreshes the image an event is about. The event's actor
// is the image id, except for pull, where it is the reference pulled; an
// untag carries the id too, so the image's remaining names come from
// inspect. Events that change nothing the cache holds (push, save) are
// ignored.
func (d *Docker) handleImageEvent(ctx context.Context, m events.Message) error {
	switch m.Action {
	case events.ActionPull, events.ActionTag, events.ActionUnTag, events.ActionDelete,
		events.ActionImport, events.ActionLoad:
	default:
		return nil
	}
	err := d.refreshImages(ctx, m.Actor.ID)
	if err != nil {
		d.log.V(1).Info("inspect after image event failed", "image", m.Actor.ID, "action", string(m.Action), "error", err.Error())
	}
	return err
}

// afterImageRemoval brings the cache in line with a removal the agent made:
// the reference and the deleted images are inspected again. Should the
// daemon not answer that, the removal's own report is applied, so that the
// caller never sees the image it removed.
func (d *Docker) afterImageRemoval(ctx context.Context, ref string, removal ImageRemoval) {
	refs := []string{ref}
	d.mu.RLock()
	for _, id := range removal.Deleted {
		// Deleted lists layers too; only images are worth a look.
		if _, ok := d.images.byID[id]; ok {
			refs = append(refs, id)
		}
	}
	d.mu.RUnlock()
	if err := d.refreshImages(ctx, refs...); err == nil {
		return
	}
	d.imageSync.Lock()
	changed := d.forgetImages(append(append([]string{ref}, removal.Untagged...), removal.Deleted...)...)
	d.imageSync.Unlock()
	d.announceImages(changed)
}

// cachePulled puts a pulled image in the cache before PullImage returns, so
// that its caller finds it at once.
func (d *Docker) cachePulled(ctx context.Context, ref string) error {
	if err := d.refreshImages(ctx, ref); err != nil {
		return fmt.Errorf("pull %s: done, but looking it up after: %w", ref, err)
	}
	return nil
}

func (d *Docker) imageCount() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.images.byID)
}
