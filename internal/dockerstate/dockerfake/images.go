package dockerfake

import (
	"context"
	"fmt"
	"maps"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// fakeImageSize is what a pulled image weighs unless the test says otherwise.
const fakeImageSize = 4 << 20

// ImagePresent fakes Docker.ImagePresent; ref may be a reference or an
// image id.
func (f *Fake) ImagePresent(ctx context.Context, ref string) (dockerstate.Image, bool, error) {
	if err := f.enter(ctx, ImagePresent); err != nil {
		return dockerstate.Image{}, false, err
	}
	defer f.mu.Unlock()
	img, ok := f.images[ref]
	return img, ok, nil
}

// PullImage fakes Docker.PullImage. The outcome is what SetPull said
// for ref, success by default; a successful pull makes the image present,
// reports progress in two steps and announces ImageChanged.
func (f *Fake) PullImage(ctx context.Context, ref string, auth dockerstate.PullAuth, progress func(done, total int64)) error {
	if err := f.enter(ctx, PullImage); err != nil {
		return err
	}
	if err := f.pulls[ref]; err != nil {
		f.mu.Unlock()
		return fmt.Errorf("pull %s: %w", ref, err)
	}
	img, ok := f.images[ref]
	if !ok {
		img = dockerstate.Image{
			ID:       fmt.Sprintf("sha256:%064x", len(f.images)+1),
			RepoTags: []string{ref},
			Size:     fakeImageSize,
			Created:  f.Now(),
		}
	}
	f.addImageLocked(ref, img)
	f.mu.Unlock()
	if progress != nil {
		progress(img.Size/2, img.Size)
		progress(img.Size, img.Size)
	}
	f.notify(dockerstate.Change{Kind: dockerstate.ImageChanged, ImageRef: ref})
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

// AddImage makes ref present as img (ID defaulted when empty), as if it had
// been loaded by other means. Subscribers are told ImageChanged.
func (f *Fake) AddImage(ref string, img dockerstate.Image) dockerstate.Image {
	f.mu.Lock()
	if img.ID == "" {
		img.ID = fmt.Sprintf("sha256:%064x", len(f.images)+1)
	}
	if img.RepoTags == nil {
		img.RepoTags = []string{ref}
	}
	f.addImageLocked(ref, img)
	f.mu.Unlock()
	f.notify(dockerstate.Change{Kind: dockerstate.ImageChanged, ImageRef: ref})
	return img
}

func (f *Fake) addImageLocked(ref string, img dockerstate.Image) {
	f.images[ref] = img
	f.images[img.ID] = img
}

// RemoveImage makes ref (and its id) absent. Subscribers are told
// ImageChanged.
func (f *Fake) RemoveImage(ref string) {
	f.mu.Lock()
	if img, ok := f.images[ref]; ok {
		delete(f.images, img.ID)
	}
	delete(f.images, ref)
	f.mu.Unlock()
	f.notify(dockerstate.Change{Kind: dockerstate.ImageChanged, ImageRef: ref})
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
