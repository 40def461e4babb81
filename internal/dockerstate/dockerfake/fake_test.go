package dockerfake_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate/dockerfake"
)

const (
	image   = "app:latest"
	taskARN = "arn:aws:ecs:local:000000000000:task/c/0123456789abcdef0123456789abcdef"
)

// setup returns a fake with the image present and a log of every change.
func setup(t *testing.T) (*dockerfake.Fake, *[]dockerstate.Change) {
	t.Helper()
	f := dockerfake.New()
	f.AddImage(image, dockerstate.Image{})
	var log []dockerstate.Change
	t.Cleanup(f.Subscribe(func(ch dockerstate.Change) { log = append(log, ch) }))
	return f, &log
}

func config(name string) dockerstate.CreateConfig {
	return dockerstate.CreateConfig{
		Name:   dockerstate.ContainerName("fam", 1, name),
		Image:  image,
		Labels: dockerstate.LabelsFor(taskARN, name, "fam", 1, "c"),
	}
}

func create(t *testing.T, f *dockerfake.Fake, cfg dockerstate.CreateConfig) dockerstate.Container {
	t.Helper()
	c, err := f.CreateContainer(context.Background(), cfg)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	return c
}

func states(log []dockerstate.Change) []string {
	var out []string
	for _, ch := range log {
		switch {
		case ch.Kind == dockerstate.ContainerChanged:
			out = append(out, ch.Container.State)
		default:
			out = append(out, string(ch.Kind))
		}
	}
	return out
}

func TestContainerGoesThroughDockersStates(t *testing.T) {
	f, log := setup(t)
	ctx := context.Background()
	cfg := config("web")
	cfg.Ports = []dockerstate.PortBinding{
		{ContainerPort: 80, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 8080},
		{ContainerPort: 80, Protocol: "tcp"},
	}
	*log = nil

	c := create(t, f, cfg)
	if got := f.TaskContainers(taskARN); len(got) != 1 || got[0].ID != c.ID || got[0].Name != cfg.Name {
		t.Fatalf("TaskContainers after create = %+v", got)
	}
	if err := f.StartContainer(ctx, c.ID); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	running, _ := f.Container(c.ID)
	wantPorts := []dockerstate.PortBinding{
		{ContainerPort: 80, HostPort: 49153, Protocol: "tcp", HostIP: "0.0.0.0"},
		{ContainerPort: 80, HostPort: 8080, Protocol: "tcp", HostIP: "127.0.0.1"},
	}
	if !reflect.DeepEqual(running.Ports, wantPorts) {
		t.Errorf("ports = %+v; want %+v", running.Ports, wantPorts)
	}
	if err := f.SignalContainer(ctx, c.ID, "SIGTERM"); err != nil {
		t.Fatalf("SignalContainer: %v", err)
	}
	exited, _ := f.Container(c.ID)
	if exited.State != dockerstate.StateExited || exited.ExitCode != 143 || exited.Ports != nil {
		t.Errorf("after SIGTERM = %+v; want exited 143 without ports", exited)
	}
	if err := f.RemoveContainer(ctx, c.ID, true); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	want := []string{"created", "running", "exited", "removed"}
	if got := states(*log); !reflect.DeepEqual(got, want) {
		t.Errorf("changes = %v; want %v", got, want)
	}
	if _, err := f.InspectContainer(ctx, c.ID); !errors.Is(err, dockerstate.ErrNotFound) {
		t.Errorf("inspect after remove: %v; want ErrNotFound", err)
	}
}

func TestDaemonRefusalsLookLikeDockers(t *testing.T) {
	f, _ := setup(t)
	ctx := context.Background()
	exited := create(t, f, config("done"))
	tests := []struct {
		name     string
		call     func() error
		notFound bool
	}{
		{"create from a missing image", func() error {
			cfg := config("x")
			cfg.Image = "missing:latest"
			_, err := f.CreateContainer(ctx, cfg)
			return err
		}, true},
		{"create with a name in use", func() error {
			cfg := config("y")
			cfg.Name = exited.Name
			_, err := f.CreateContainer(ctx, cfg)
			return err
		}, false},
		{"start a missing container", func() error { return f.StartContainer(ctx, "nope") }, true},
		{"signal a container that is not running", func() error { return f.SignalContainer(ctx, exited.ID, "SIGTERM") }, false},
		{"signal with a bad signal", func() error { return f.SignalContainer(ctx, exited.ID, "SIGNOPE") }, false},
		{"remove a missing volume", func() error { return f.RemoveVolume(ctx, "nope") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, dockerstate.ErrNotFound) != tt.notFound {
				t.Errorf("error %v: ErrNotFound = %v; want %v", err, !tt.notFound, tt.notFound)
			}
			if dockerstate.IsTransient(err) {
				t.Errorf("error %v counts as transient", err)
			}
		})
	}
}

func TestIgnoredSigtermLeavesTheContainerForSigkill(t *testing.T) {
	f, _ := setup(t)
	ctx := context.Background()
	c := create(t, f, config("stubborn"))
	if err := f.StartContainer(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	f.IgnoreSignal(c.ID, "SIGTERM")
	for _, sig := range []string{"SIGTERM", "KILL"} {
		if err := f.SignalContainer(ctx, c.ID, sig); err != nil {
			t.Fatalf("signal %s: %v", sig, err)
		}
	}
	got, _ := f.Container(c.ID)
	if got.State != dockerstate.StateExited || got.ExitCode != 137 {
		t.Errorf("after SIGTERM, SIGKILL = %+v; want exited 137", got)
	}
	if sigs := f.Signals(c.ID); !reflect.DeepEqual(sigs, []string{"SIGTERM", "SIGKILL"}) {
		t.Errorf("signals = %v", sigs)
	}
}

func TestFaultsFailTheNextCalls(t *testing.T) {
	f, _ := setup(t)
	f.Fail(dockerfake.CreateContainer, 2, dockerfake.ErrTransient)
	for i := range 2 {
		_, err := f.CreateContainer(context.Background(), config("a"))
		if !dockerstate.IsTransient(err) {
			t.Fatalf("call %d: error %v; want transient", i+1, err)
		}
	}
	create(t, f, config("a"))
	if n := f.Calls(dockerfake.CreateContainer); n != 3 {
		t.Errorf("Calls = %d; want 3", n)
	}
	if got := f.Containers(); len(got) != 1 {
		t.Errorf("failed calls left containers behind: %+v", got)
	}
}

func TestHangBlocksUntilTheCallerGivesUp(t *testing.T) {
	f, _ := setup(t)
	f.Hang(dockerfake.InspectContainer, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.InspectContainer(ctx, "any")
	if !errors.Is(err, context.DeadlineExceeded) || !dockerstate.IsTransient(err) {
		t.Errorf("hung call: %v; want a transient deadline error", err)
	}
	if _, err := f.InspectContainer(context.Background(), "any"); !errors.Is(err, dockerstate.ErrNotFound) {
		t.Errorf("next call: %v; want the normal answer", err)
	}
}

func TestPullOutcomeIsChosenPerReference(t *testing.T) {
	f, log := setup(t)
	ctx := context.Background()
	denied := errors.New("pull access denied")
	f.SetPull("private:1", denied)
	*log = nil

	var progress [][2]int64
	if err := f.PullImage(ctx, "public:1", dockerstate.PullAuth{}, func(d, t int64) { progress = append(progress, [2]int64{d, t}) }); err != nil {
		t.Fatalf("pull public:1: %v", err)
	}
	if img, ok, _ := f.ImagePresent(ctx, "public:1"); !ok || img.ID == "" {
		t.Errorf("pulled image not present: %+v", img)
	}
	if len(progress) == 0 || progress[len(progress)-1][0] != progress[len(progress)-1][1] {
		t.Errorf("progress = %v; want it to end complete", progress)
	}
	if err := f.PullImage(ctx, "private:1", dockerstate.PullAuth{}, nil); !errors.Is(err, denied) {
		t.Errorf("pull private:1: %v; want %v", err, denied)
	}
	if _, ok, _ := f.ImagePresent(ctx, "private:1"); ok {
		t.Error("failed pull made the image present")
	}
	if got := states(*log); !reflect.DeepEqual(got, []string{"image"}) {
		t.Errorf("changes = %v; want one image change", got)
	}
	f.RemoveImage("public:1")
	if _, ok, _ := f.ImagePresent(ctx, "public:1"); ok {
		t.Error("removed image still present")
	}
}

func TestImagesResolveAndGoAsInDocker(t *testing.T) {
	f, _ := setup(t)
	ctx := context.Background()
	img := f.AddImage("busybox:latest", dockerstate.Image{})
	for _, ref := range []string{"busybox", "docker.io/library/busybox:latest", img.ID, img.ID[len("sha256:"):][:12]} {
		if got, ok, err := f.ImagePresent(ctx, ref); !ok || err != nil || got.ID != img.ID {
			t.Errorf("ImagePresent(%q) = %+v, %v, %v; want image %s", ref, got, ok, err, img.ID)
		}
	}
	f.AddImage("busybox:1.36", dockerstate.Image{ID: img.ID})
	if list, _ := f.ListImages(ctx); len(list) != 2 || !reflect.DeepEqual(list[1].RepoTags, []string{"busybox:1.36", "busybox:latest"}) {
		t.Fatalf("ListImages = %+v; want %s (image) with both tags beside %s", list, img.ID, image)
	}

	if removal, err := f.DeleteImage(ctx, "busybox"); err != nil || !reflect.DeepEqual(removal, dockerstate.ImageRemoval{Untagged: []string{"busybox"}}) {
		t.Fatalf("DeleteImage of one of two names = %+v, %v; want it untagged only", removal, err)
	}
	cfg := config("user")
	cfg.Image = "busybox:1.36"
	c := create(t, f, cfg)
	if _, err := f.DeleteImage(ctx, "busybox:1.36"); !errors.Is(err, dockerstate.ErrImageInUse) {
		t.Fatalf("DeleteImage of the last name of an image a container uses: %v; want ErrImageInUse", err)
	}
	if _, ok, _ := f.ImagePresent(ctx, "busybox:1.36"); !ok {
		t.Fatal("a refused DeleteImage removed the name")
	}
	if err := f.RemoveContainer(ctx, c.ID, true); err != nil {
		t.Fatal(err)
	}
	removal, err := f.DeleteImage(ctx, img.ID)
	if err != nil || !reflect.DeepEqual(removal, dockerstate.ImageRemoval{Untagged: []string{"busybox:1.36"}, Deleted: []string{img.ID}}) {
		t.Fatalf("DeleteImage by id once unused = %+v, %v; want untagged and deleted", removal, err)
	}
	if _, ok, _ := f.ImagePresent(ctx, img.ID); ok {
		t.Error("deleted image still present")
	}
}

func TestThingsHappenBehindTheAgentsBack(t *testing.T) {
	f, log := setup(t)
	ctx := context.Background()
	cfg := config("svc")
	cfg.HealthCheck = &dockerstate.HealthCheck{Test: []string{"CMD", "/check"}}
	a, b, c := create(t, f, cfg), create(t, f, config("b")), create(t, f, config("c"))
	for _, id := range []string{a.ID, b.ID} {
		if err := f.StartContainer(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := f.Container(a.ID); got.Health != "starting" {
		t.Errorf("health after start = %q; want starting", got.Health)
	}
	*log = nil

	f.SetHealth(a.ID, "healthy", "ok")
	f.Exit(a.ID, 3)
	f.OOMKill(b.ID)
	f.Vanish(a.ID)
	f.VanishSilently(c.ID)
	f.Resync()

	want := []string{"running", "exited", "exited", "removed", "resynced"}
	if got := states(*log); !reflect.DeepEqual(got, want) {
		t.Errorf("changes = %v; want %v", got, want)
	}
	if ch := (*log)[0].Container; ch.Health != "healthy" || ch.HealthOutput != "ok" {
		t.Errorf("health change = %+v", ch)
	}
	if ch := (*log)[1].Container; ch.ExitCode != 3 {
		t.Errorf("exit change = %+v", ch)
	}
	if ch := (*log)[2].Container; ch.ExitCode != 137 || !ch.OOMKilled {
		t.Errorf("OOM change = %+v", ch)
	}
	if got := f.Containers(); len(got) != 1 || got[0].ID != b.ID {
		t.Errorf("containers left = %+v; want just %s", got, b.ID)
	}
}

func TestAddedContainersAreAdoptable(t *testing.T) {
	f, _ := setup(t)
	c := f.AddContainer(dockerstate.Container{
		Name: "ecs-fam-1-old-00", State: dockerstate.StateRunning,
		Labels: dockerstate.LabelsFor(taskARN, "old", "fam", 1, "c"),
	})
	if got := f.TaskContainers(taskARN); len(got) != 1 || got[0].ID != c.ID || got[0].ContainerName() != "old" {
		t.Errorf("TaskContainers = %+v", got)
	}
	if err := f.SignalContainer(context.Background(), c.ID, "SIGTERM"); err != nil {
		t.Errorf("signal an added container: %v", err)
	}
}

func TestVolumesAreEnsuredOnce(t *testing.T) {
	f, _ := setup(t)
	ctx := context.Background()
	if err := f.EnsureVolume(ctx, "data", "local", nil, map[string]string{"a": "1"}); err != nil {
		t.Fatal(err)
	}
	if err := f.EnsureVolume(ctx, "data", "other", nil, nil); err != nil {
		t.Fatal(err)
	}
	if v := f.Volumes()["data"]; v.Driver != "local" || v.Labels["a"] != "1" {
		t.Errorf("volume = %+v; want the first one kept", v)
	}
	if err := f.RemoveVolume(ctx, "data"); err != nil {
		t.Fatal(err)
	}
	if len(f.Volumes()) != 0 {
		t.Errorf("volumes left: %v", f.Volumes())
	}
}
