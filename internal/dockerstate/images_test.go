package dockerstate_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

func TestDeleteImageRefusesAnImageAContainerWasCreatedFrom(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	ref := "ecs-agent-test/dockerstate-delete:" + f.cluster
	// An image of its own (one reference): a second tag of a shared image
	// is untagged even while a container uses it, since the image stays.
	f.buildImage(ref)
	f.run()
	f.changes.waitFor(t, 0, 10*time.Second, "first resync", isResynced)
	cfg := f.config("user", "sleep")
	cfg.Image = ref
	c, err := f.d.CreateContainer(f.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.DeleteImage(f.ctx, ref); !errors.Is(err, dockerstate.ErrImageInUse) {
		t.Fatalf("DeleteImage of an image a created container uses: %v, want ErrImageInUse", err)
	}
	if err := f.d.RemoveContainer(f.ctx, c.ID, true); err != nil {
		t.Fatal(err)
	}
	removal, err := f.d.DeleteImage(f.ctx, ref)
	if err != nil || !slices.Equal(removal.Untagged, []string{ref}) || len(removal.Deleted) == 0 {
		t.Fatalf("DeleteImage once unused: %+v, %v; want untagged and deleted", removal, err)
	}
	// The cache shows the removal as DeleteImage returns, before any event.
	if img, present, err := f.d.ImagePresent(f.ctx, ref); present || err != nil {
		t.Fatalf("ImagePresent right after DeleteImage = %+v, %v, %v; want absent", img, present, err)
	}
	if _, present, _ := f.d.ImagePresent(f.ctx, testImage); !present {
		t.Fatal("removing an image built on the test image removed the test image")
	}
	if _, err := f.d.DeleteImage(f.ctx, ref); !errors.Is(err, dockerstate.ErrNotFound) {
		t.Fatalf("DeleteImage of a gone reference: %v, want ErrNotFound", err)
	}
}

func TestDataDiskIsTheDaemonsDataRoot(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	d, err := f.d.DataDisk(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Path == "" || d.Total == 0 || d.Available > d.Total || d.UsedPercent() <= 0 || d.UsedPercent() > 100 {
		t.Fatalf("DataDisk = %+v (%.1f%% used): want the data root's size and usage", d, d.UsedPercent())
	}
	images, err := f.d.ListImages(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(images, func(i dockerstate.Image) bool { return slices.Contains(i.RepoTags, testImage) }) {
		t.Fatalf("ListImages has no %s", testImage)
	}
}

// buildImage builds an image of its own (one name, deleted with it) under
// ref, removed at the end of the test.
func (f *fixture) buildImage(ref string) {
	f.t.Helper()
	build := exec.Command("docker", "build", "-q", "-t", ref, "-")
	build.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	build.Stdin = strings.NewReader("FROM " + testImage + "\nLABEL ecs-agent-test.dockerstate=" + f.cluster + "\n")
	if out, err := build.CombinedOutput(); err != nil {
		f.t.Fatalf("docker build: %v: %s", err, out)
	}
	f.t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
}

// waitImage waits for an image change after from that leaves ref present
// (or absent) in the cache, and returns what the cache then holds for ref.
func (f *fixture) waitImage(from int, ref string, present bool, what string) dockerstate.Image {
	f.t.Helper()
	var img dockerstate.Image
	f.changes.waitFor(f.t, from, 10*time.Second, what, func(ch dockerstate.Change) bool {
		if ch.Kind != dockerstate.ImageChanged {
			return false
		}
		var ok bool
		img, ok, _ = f.d.ImagePresent(f.ctx, ref)
		return ok == present
	})
	return img
}

// newImageFixture is a running fixture whose cache has synced. Without a
// periodic relist in the test's time, only events can change the cache.
func newImageFixture(t *testing.T, opts dockerstate.Options) *fixture {
	t.Helper()
	if opts.RelistInterval == 0 {
		opts.RelistInterval = time.Hour
	}
	f := newFixture(t, opts)
	f.run()
	f.changes.waitFor(t, 0, 10*time.Second, "first resync", isResynced)
	return f
}

func TestImageCacheFollowsTagAndUntagByEvents(t *testing.T) {
	f := newImageFixture(t, dockerstate.Options{})
	ref := "ecs-agent-test/dockerstate-tag:" + f.cluster
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", ref).Run() })
	app, ok, err := f.d.ImagePresent(f.ctx, testImage)
	if !ok || err != nil {
		t.Fatalf("%s not in the cache after the first List: %v", testImage, err)
	}
	if _, ok, _ := f.d.ImagePresent(f.ctx, ref); ok {
		t.Fatalf("%s present before it was tagged", ref)
	}

	from := f.changes.mark()
	f.cli("tag", testImage, ref)
	if img := f.waitImage(from, ref, true, "tag event"); img.ID != app.ID {
		t.Errorf("%s is image %s; want %s, the image tagged", ref, img.ID, app.ID)
	}

	from = f.changes.mark()
	f.cli("rmi", ref)
	f.waitImage(from, ref, false, "untag event")
	if _, ok, _ := f.d.ImagePresent(f.ctx, testImage); !ok {
		t.Errorf("untagging %s dropped %s, another name of the image", ref, testImage)
	}
}

func TestImageCacheFollowsDeleteLoadAndImportByEvents(t *testing.T) {
	f := newImageFixture(t, dockerstate.Options{})
	ref := "ecs-agent-test/dockerstate-load:" + f.cluster
	imported := "ecs-agent-test/dockerstate-import:" + f.cluster
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", imported).Run() })

	from := f.changes.mark()
	f.buildImage(ref)
	built := f.waitImage(from, ref, true, "built image's tag event")
	tar := filepath.Join(t.TempDir(), "image.tar")
	f.cli("save", "-o", tar, ref)

	from = f.changes.mark()
	f.cli("rmi", ref)
	f.waitImage(from, built.ID, false, "delete event")

	from = f.changes.mark()
	f.cli("load", "-i", tar)
	if img := f.waitImage(from, ref, true, "load event"); img.ID != built.ID {
		t.Errorf("loaded %s is image %s; want %s, the image saved", ref, img.ID, built.ID)
	}

	from = f.changes.mark()
	f.cli("import", tar, imported)
	f.waitImage(from, imported, true, "import event")
}

func TestImageRelistFindsWhatTheEventsMissed(t *testing.T) {
	p := startProxy(t)
	p.muteEvents.Store(true)
	f := newImageFixture(t, dockerstate.Options{Host: p.host(), RelistInterval: 300 * time.Millisecond})
	ref := "ecs-agent-test/dockerstate-relist:" + f.cluster
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", ref).Run() })

	from := f.changes.mark()
	f.cli("tag", testImage, ref)
	f.waitImage(from, ref, true, "tag found by relist")

	from = f.changes.mark()
	f.cli("rmi", ref)
	f.waitImage(from, ref, false, "untag found by relist")
}
