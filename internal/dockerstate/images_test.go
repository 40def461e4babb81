package dockerstate_test

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

func TestDeleteImageRefusesAnImageAContainerWasCreatedFrom(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	ref := "ecs-agent-test/dockerstate-delete:" + f.cluster
	// An image of its own (one reference): a second tag of a shared image
	// is untagged even while a container uses it, since the image stays.
	build := exec.Command("docker", "build", "-q", "-t", ref, "-")
	build.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	build.Stdin = strings.NewReader("FROM " + testImage + "\nLABEL ecs-agent-test.dockerstate=" + f.cluster + "\n")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
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
	if _, present, _ := f.d.ImagePresent(f.ctx, testImage); !present {
		t.Fatal("untagging a second reference removed the image")
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
