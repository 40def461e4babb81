package dockerfake

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// fakeImageSize is what a pulled image weighs unless the test says otherwise.
const fakeImageSize = 4 << 20

// ImagePresent fakes Docker.ImagePresent: ref resolves as the daemon
// resolves it (dockerstate.ImageIndex), so a short name, a digest or an id
// finds the image as it would on a real host.
func (f *Fake) ImagePresent(ctx context.Context, ref string) (dockerstate.Image, bool, error) {
	if err := f.enter(ctx, ImagePresent); err != nil {
		return dockerstate.Image{}, false, err
	}
	defer f.mu.Unlock()
	return f.images.Resolve(ref)
}

// PullImage fakes Docker.PullImage. The outcome is what SetPull said for
// ref, success by default; a successful pull makes the image present (the
// one ref already names, or a new one), reports progress in two steps and
// announces ImageChanged.
func (f *Fake) PullImage(ctx context.Context, ref string, auth dockerstate.PullAuth, progress func(done, total int64)) error {
	if err := f.enter(ctx, PullImage); err != nil {
		return err
	}
	if err := f.pulls[ref]; err != nil {
		f.mu.Unlock()
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	img, ok, err := f.images.Resolve(ref)
	if err != nil {
		f.mu.Unlock()
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	if !ok {
		img = dockerstate.Image{ID: f.newImageIDLocked(), RepoTags: []string{ref}, Size: fakeImageSize, Created: f.Now()}
		f.images.Put(img)
	}
	f.mu.Unlock()
	if progress != nil {
		progress(img.Size/2, img.Size)
		progress(img.Size, img.Size)
	}
	f.notify(dockerstate.Change{Kind: dockerstate.ImageChanged, ImageRef: img.ID})
	return nil
}

// ImportImage fakes Docker.ImportImage: the image becomes present under
// ref, and ImageChanged is announced. The root filesystem is read, not kept.
func (f *Fake) ImportImage(ctx context.Context, ref string, rootfs io.Reader, entrypoint []string) error {
	if _, err := io.Copy(io.Discard, rootfs); err != nil {
		return fmt.Errorf("import image %s: %w", ref, err)
	}
	if err := f.enter(ctx, ImportImage); err != nil {
		return err
	}
	img := dockerstate.Image{ID: f.newImageIDLocked(), RepoTags: []string{ref}, Size: fakeImageSize, Created: f.Now()}
	f.images.Put(img)
	f.mu.Unlock()
	f.notify(dockerstate.Change{Kind: dockerstate.ImageChanged, ImageRef: img.ID})
	return nil
}

// SetPull decides how pulls of ref end: nil for success, else the error the
// pull returns (wrapped), e.g. errors.New("pull access denied") or
// ErrTransient.
func (f *Fake) SetPull(ref string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pulls[ref] = err
}

// AddImage makes ref name img, as if it had been pulled, tagged or loaded
// by other means: img's ID is defaulted when empty, and an image the fake
// already holds under that ID keeps its other names. Subscribers are told
// ImageChanged. It returns the image as stored.
func (f *Fake) AddImage(ref string, img dockerstate.Image) dockerstate.Image {
	f.mu.Lock()
	if img.ID == "" {
		img.ID = f.newImageIDLocked()
	}
	if old, ok, _ := f.images.Resolve(img.ID); ok && old.ID == img.ID {
		img.RepoTags = append(old.RepoTags, img.RepoTags...)
		img.RepoDigests = append(old.RepoDigests, img.RepoDigests...)
	}
	if !slices.Contains(img.RepoTags, ref) && !slices.Contains(img.RepoDigests, ref) {
		img.RepoTags = append(img.RepoTags, ref)
	}
	img.RepoTags = compactSorted(img.RepoTags)
	img.RepoDigests = compactSorted(img.RepoDigests)
	f.images.Put(img)
	f.mu.Unlock()
	f.notify(dockerstate.Change{Kind: dockerstate.ImageChanged, ImageRef: img.ID})
	return img
}

// RemoveImage makes the image ref names absent, with all its names, as
// docker rmi -f would behind the agent's back. Subscribers are told
// ImageChanged.
func (f *Fake) RemoveImage(ref string) {
	f.mu.Lock()
	if img, ok, _ := f.images.Resolve(ref); ok {
		f.images.Delete(img.ID)
	}
	f.mu.Unlock()
	f.notify(dockerstate.Change{Kind: dockerstate.ImageChanged, ImageRef: ref})
}

// newImageIDLocked makes an id that, like a real one, differs from the
// others in its first digits, so that short ids resolve.
func (f *Fake) newImageIDLocked() string {
	f.nextImage++
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(strconv.Itoa(f.nextImage))))
}

func compactSorted(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// EnsureVolume fakes Docker.EnsureVolume.
func (f *Fake) EnsureVolume(ctx context.Context, name, driver string, driverOpts, labels map[string]string) error {
	if err := f.enter(ctx, EnsureVolume); err != nil {
		return err
	}
	defer f.mu.Unlock()
	if _, ok := f.volumes[name]; !ok {
		f.volumes[name] = Volume{Name: name, Driver: driver, DriverOpts: maps.Clone(driverOpts), Labels: maps.Clone(labels)}
	}
	return nil
}

// RemoveVolume fakes Docker.RemoveVolume.
func (f *Fake) RemoveVolume(ctx context.Context, name string) error {
	if err := f.enter(ctx, RemoveVolume); err != nil {
		return err
	}
	defer f.mu.Unlock()
	if _, ok := f.volumes[name]; !ok {
		return fmt.Errorf("remove volume %s: %w", name, notFound("volume", name))
	}
	delete(f.volumes, name)
	return nil
}

// Volumes returns the volumes the fake holds, by name.
func (f *Fake) Volumes() map[string]Volume {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.volumes)
}

// ImageEnv fakes Docker.ImageEnv: the environment SetImageEnv gave the
// image, none by default; ErrNotFound for an image that is not present.
func (f *Fake) ImageEnv(ctx context.Context, ref string) ([]string, error) {
	if err := f.enter(ctx, ImageEnv); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	img, ok, err := f.images.Resolve(ref)
	if err != nil || !ok {
		return nil, fmt.Errorf("inspect image %s: %w", ref, notFound("image", ref))
	}
	return slices.Clone(f.imageEnv[img.ID]), nil
}

// SetImageEnv makes the present image ref carry env (its ENV lines).
func (f *Fake) SetImageEnv(ref string, env ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if img, ok, _ := f.images.Resolve(ref); ok {
		f.imageEnv[img.ID] = env
	}
}
