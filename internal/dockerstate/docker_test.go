package dockerstate_test

import (
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// These tests run against the real Docker daemon.

func isResynced(ch dockerstate.Change) bool { return ch.Kind == dockerstate.Resynced }

func TestSyncListsExistingTaskContainersOnly(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	labelled := f.cliCreate("app", "sleep")
	unlabelled := f.cli("create", "--label", dockerstate.LabelCluster+"="+f.cluster, testImage, "sleep")
	if f.d.Synced() {
		t.Fatal("Synced before Run")
	}

	f.run()
	f.changes.waitFor(t, 0, 10*time.Second, "first resync", isResynced)

	if !f.d.Synced() {
		t.Error("not Synced after the first Resynced")
	}
	c, ok := f.d.Container(labelled)
	if !ok {
		t.Fatalf("labelled container %s not in the cache", labelled)
	}
	if c.State != dockerstate.StateCreated || c.TaskARN() != f.taskARN || c.ContainerName() != "app" ||
		!strings.HasPrefix(c.Name, "ecs-test-1-app-") || c.Image != testImage || !strings.HasPrefix(c.ImageID, "sha256:") {
		t.Errorf("cached container = %+v", c)
	}
	if _, ok := f.d.Container(unlabelled); ok {
		t.Errorf("container %s without a task ARN label is in the cache", unlabelled)
	}
	if got := f.d.TaskContainers(f.taskARN); len(got) != 1 || got[0].ID != labelled {
		t.Errorf("TaskContainers = %+v; want just %s", got, labelled)
	}
}

func TestCreateAndStartShowRunningWithPortBindings(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	f.run()
	hostPort := freePort(t)
	cfg := f.config("web", "serve", "8080")
	cfg.Ports = []dockerstate.PortBinding{{ContainerPort: 8080, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: int32(hostPort)}}

	created, err := f.d.CreateContainer(f.ctx, cfg)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if cached, ok := f.d.Container(created.ID); !ok || cached.State != dockerstate.StateCreated {
		t.Fatalf("cache right after create = %+v, %v; want the created container", cached, ok)
	}
	if err := f.d.StartContainer(f.ctx, created.ID); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	ch := f.changes.waitFor(t, 0, 10*time.Second, "running", func(ch dockerstate.Change) bool {
		return isContainer(ch, created.ID, dockerstate.ContainerChanged) && ch.Container.State == dockerstate.StateRunning
	})
	want := []dockerstate.PortBinding{{ContainerPort: 8080, HostPort: int32(hostPort), Protocol: "tcp", HostIP: "127.0.0.1"}}
	if !reflect.DeepEqual(ch.Container.Ports, want) {
		t.Errorf("ports = %+v; want %+v", ch.Container.Ports, want)
	}
	if ch.Container.StartedAt.IsZero() {
		t.Error("StartedAt is zero for a running container")
	}
}

// A second create under a taken name is ErrNameInUse, and the name finds
// the first container: what the tasks reconciler adopts after a create
// whose answer was lost.
func TestCreateUnderATakenNameIsErrNameInUseAndTheNameInspects(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	f.run()
	cfg := f.config("twice", "sleep")
	first, err := f.d.CreateContainer(f.ctx, cfg)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if _, err := f.d.CreateContainer(f.ctx, cfg); !errors.Is(err, dockerstate.ErrNameInUse) {
		t.Fatalf("second create under name %s: %v, want ErrNameInUse", cfg.Name, err)
	}
	byName, err := f.d.InspectContainer(f.ctx, cfg.Name)
	if err != nil || byName.ID != first.ID {
		t.Fatalf("inspect by name %s = %s, %v; want the first container %s", cfg.Name, byName.ID, err, first.ID)
	}
}

// TestCreateThatDockerWouldNotApplyIsRefused: Docker creates a host-mode
// container with published ports, warning that it discards them. The
// container would not be what was asked, so it is removed and the create
// fails with Docker's warning.
func TestCreateThatDockerWouldNotApplyIsRefused(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	f.run()
	cfg := f.config("hostweb", "sleep")
	cfg.NetworkMode = "host"
	cfg.Ports = []dockerstate.PortBinding{{ContainerPort: 8080, HostPort: 8080, Protocol: "tcp"}}

	_, err := f.d.CreateContainer(f.ctx, cfg)
	var nae *dockerstate.NotAppliedError
	if !errors.As(err, &nae) || !strings.Contains(err.Error(), "Published ports are discarded") {
		t.Fatalf("CreateContainer = %v; want a NotAppliedError quoting Docker's warning", err)
	}
	if dockerstate.IsTransient(err) {
		t.Errorf("%v is transient; retrying the same create cannot help", err)
	}
	if ids := f.cli("ps", "-aq", "--filter", "name="+cfg.Name); ids != "" {
		t.Errorf("container %s is still there (%s); want it removed", cfg.Name, ids)
	}
}

func TestExitCodeArrivesThroughEvents(t *testing.T) {
	f := newFixture(t, dockerstate.Options{RelistInterval: time.Hour})
	f.run()
	c, err := f.d.CreateContainer(f.ctx, f.config("job", "exit", "3"))
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if err := f.d.StartContainer(f.ctx, c.ID); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	ch := f.changes.waitFor(t, 0, 10*time.Second, "exit 3", func(ch dockerstate.Change) bool {
		return isContainer(ch, c.ID, dockerstate.ContainerChanged) && ch.Container.State == dockerstate.StateExited
	})
	if ch.Container.ExitCode != 3 || ch.Container.FinishedAt.IsZero() || ch.Container.OOMKilled {
		t.Errorf("exited container = %+v; want exit code 3 with a finish time", ch.Container)
	}
}

// TestKillAndStopEventsAreNotInspected: a signal changes nothing an
// inspect shows (the exit it may cause brings its own die event), so the
// events loop does not wait on an inspect for it.
func TestKillAndStopEventsAreNotInspected(t *testing.T) {
	p := startProxy(t)
	f := newFixture(t, dockerstate.Options{Host: p.host(), RelistInterval: time.Hour})
	f.run()
	victim := f.start(f.config("victim", "sleep"))
	from := f.changes.mark()
	marker := f.start(f.config("marker", "sleep"))
	f.changes.waitFor(t, from, 20*time.Second, "marker running", func(ch dockerstate.Change) bool {
		return isContainer(ch, marker.ID, dockerstate.ContainerChanged) && ch.Container.State == dockerstate.StateRunning
	})
	p.inspected.Clear()

	// The test app ignores SIGWINCH: a kill event and nothing else. A
	// second marker's events come after it, so once they are handled so
	// is the kill.
	f.cli("kill", "--signal", "SIGWINCH", victim.ID)
	from = f.changes.mark()
	marker2 := f.start(f.config("marker2", "sleep"))
	f.changes.waitFor(t, from, 20*time.Second, "second marker running", func(ch dockerstate.Change) bool {
		return isContainer(ch, marker2.ID, dockerstate.ContainerChanged) && ch.Container.State == dockerstate.StateRunning
	})
	if p.wasInspected(victim.ID) {
		t.Error("the kill event of a signal the container ignored was followed by an inspect")
	}
}

func TestContainerRemovedWithTheCLIIsNoticed(t *testing.T) {
	f := newFixture(t, dockerstate.Options{RelistInterval: time.Hour})
	f.run()
	c := f.start(f.config("victim", "sleep"))
	from := f.changes.mark()

	f.cli("rm", "-f", c.ID)

	f.changes.waitFor(t, from, 20*time.Second, "removal", func(ch dockerstate.Change) bool {
		return isContainer(ch, c.ID, dockerstate.ContainerRemoved)
	})
	if _, ok := f.d.Container(c.ID); ok {
		t.Error("removed container still cached")
	}
}

// TestRelistNoticesRemovalTheEventsMissed is the ECS agent's #364: with
// events lost, only the relist can tell that a container is gone.
func TestRelistNoticesRemovalTheEventsMissed(t *testing.T) {
	p := startProxy(t)
	p.muteEvents.Store(true)
	f := newFixture(t, dockerstate.Options{Host: p.host(), RelistInterval: 300 * time.Millisecond})
	f.run()
	c, err := f.d.CreateContainer(f.ctx, f.config("victim", "sleep"))
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	from := f.changes.mark()

	f.cli("rm", "-f", c.ID)

	f.changes.waitFor(t, from, 20*time.Second, "removal found by relist", func(ch dockerstate.Change) bool {
		return isContainer(ch, c.ID, dockerstate.ContainerRemoved)
	})
}

// TestRelistInspectsOnlyContainersThatChanged: the periodic relist is one
// List; a container whose List entry agrees with the cache is not inspected
// again, and one that changed behind the events' back still is.
func TestRelistInspectsOnlyContainersThatChanged(t *testing.T) {
	p := startProxy(t)
	p.muteEvents.Store(true)
	f := newFixture(t, dockerstate.Options{Host: p.host(), RelistInterval: 200 * time.Millisecond})
	f.run()
	idle := f.start(f.config("idle", "sleep"))
	moved := f.start(f.config("moved", "sleep"))
	waitLists := func(n int64) {
		t.Helper()
		want := p.lists.Load() + n
		deadline := time.Now().Add(10 * time.Second)
		for p.lists.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("fewer than %d relists in 10s", n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLists(2) // the relists that saw the creates are over
	p.inspected.Clear()
	waitLists(3)
	if p.wasInspected(idle.ID) || p.wasInspected(moved.ID) {
		t.Fatalf("relists of unchanged containers inspected them (idle %v, moved %v); want List only",
			p.wasInspected(idle.ID), p.wasInspected(moved.ID))
	}
	from := f.changes.mark()

	f.cli("kill", moved.ID)

	f.changes.waitFor(t, from, 20*time.Second, "exit found by relist", func(ch dockerstate.Change) bool {
		return isContainer(ch, moved.ID, dockerstate.ContainerChanged) && ch.Container.State == dockerstate.StateExited
	})
	if p.wasInspected(idle.ID) {
		t.Error("the idle container was inspected; want only the one that changed")
	}
}

func TestHealthCheckReachesHealthy(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	f.run()
	cfg := f.config("checked", "healthy-after", "1s")
	cfg.HealthCheck = &dockerstate.HealthCheck{
		Test: []string{"CMD", "/testapp", "check"}, Interval: time.Second, Timeout: 5 * time.Second, Retries: 30,
	}
	c := f.start(cfg)

	f.changes.waitFor(t, 0, 20*time.Second, "healthy", func(ch dockerstate.Change) bool {
		return isContainer(ch, c.ID, dockerstate.ContainerChanged) && ch.Container.Health == "healthy"
	})
}

func TestReconnectResyncsWhatChangedWhileAway(t *testing.T) {
	p := startProxy(t)
	f := newFixture(t, dockerstate.Options{Host: p.host(), RelistInterval: time.Hour})
	f.run()
	gone := f.start(f.config("gone", "sleep"))
	if o := f.d.Outages(); len(o) != 0 {
		t.Errorf("outages before any: %v; want none", o)
	}

	cutAt := time.Now()
	p.cut(t)
	from := f.changes.mark()
	if _, err := f.d.InspectContainer(f.ctx, gone.ID); !dockerstate.IsTransient(err) {
		t.Errorf("inspect with the daemon away: error %v is not transient", err)
	}
	f.cli("rm", "-f", gone.ID)
	born := f.cliCreate("born", "sleep")
	tagged := "ecs-agent-test/dockerstate-away:" + f.cluster
	f.cli("tag", testImage, tagged)
	t.Cleanup(func() { f.cli("rmi", tagged) })
	p.up(t)
	upAt := time.Now()

	f.changes.waitFor(t, from, 15*time.Second, "resync after reconnect", isResynced)
	if o := f.d.Outages(); len(o) != 1 || o[0].Lost.Before(cutAt) || o[0].Lost.After(upAt) || o[0].Back.Before(upAt) {
		t.Errorf("outages %v; want one lost between the cut at %s and the return at %s, back after it", o, cutAt, upAt)
	}
	f.changes.waitFor(t, from, 0, "removal of "+gone.ID, func(ch dockerstate.Change) bool {
		return isContainer(ch, gone.ID, dockerstate.ContainerRemoved)
	})
	if _, ok := f.d.Container(gone.ID); ok {
		t.Error("container removed while away is still cached")
	}
	if c, ok := f.d.Container(born); !ok || c.State != dockerstate.StateCreated {
		t.Errorf("container created while away: cached %+v, %v", c, ok)
	}
	if _, ok, err := f.d.ImagePresent(f.ctx, tagged); !ok || err != nil {
		t.Errorf("image tagged while away: present %v, %v; want present after the resync", ok, err)
	}
}

func TestHungDaemonCallsTimeOutAsTransient(t *testing.T) {
	p := startProxy(t)
	p.stall.Store(true)
	f := newFixture(t, dockerstate.Options{Host: p.host(), CallTimeout: 300 * time.Millisecond})
	start := time.Now()
	_, err := f.d.InspectContainer(f.ctx, "anything")
	if !dockerstate.IsTransient(err) {
		t.Errorf("inspect on a hung daemon: error %v is not transient", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("inspect on a hung daemon took %s; CallTimeout is 300ms", took)
	}
}

func TestMissingObjectsAreErrNotFound(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	const id = "dockerstate-test-no-such-container"
	tests := []struct {
		name string
		call func() error
	}{
		{"inspect", func() error { _, err := f.d.InspectContainer(f.ctx, id); return err }},
		{"start", func() error { return f.d.StartContainer(f.ctx, id) }},
		{"signal", func() error { return f.d.SignalContainer(f.ctx, id, "SIGTERM") }},
		{"remove", func() error { return f.d.RemoveContainer(f.ctx, id, true) }},
		{"remove volume", func() error { return f.d.RemoveVolume(f.ctx, "dockerstate-test-no-such-volume") }},
		{"create from a missing image", func() error {
			cfg := f.config("x", "sleep")
			cfg.Image = "ecs-agent-test/no-such-image:latest"
			_, err := f.d.CreateContainer(f.ctx, cfg)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, dockerstate.ErrNotFound) {
				t.Errorf("error = %v; want ErrNotFound", err)
			}
			if dockerstate.IsTransient(err) {
				t.Errorf("error %v counts as transient", err)
			}
		})
	}
}

func TestImagePresentAndPullFailure(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	img, ok, err := f.d.ImagePresent(f.ctx, testImage)
	if err != nil || !ok || !strings.HasPrefix(img.ID, "sha256:") || img.Size <= 0 {
		t.Errorf("ImagePresent(%s) = %+v, %v, %v; want it present", testImage, img, ok, err)
	}
	if _, ok, err := f.d.ImagePresent(f.ctx, "ecs-agent-test/no-such-image:latest"); ok || err != nil {
		t.Errorf("ImagePresent(missing) = %v, %v; want false, nil", ok, err)
	}
	// No registry is reachable here; what matters is that the failure comes
	// back as the pull's error, with or without credentials.
	for _, auth := range []dockerstate.PullAuth{{}, {Username: "u", Password: "p", ServerAddress: "127.0.0.1:1"}} {
		err := f.d.PullImage(f.ctx, "127.0.0.1:1/no/such:image", auth, nil)
		if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1/no/such:image") {
			t.Errorf("pull from a dead registry (auth %v): error %v; want one naming the image", auth != (dockerstate.PullAuth{}), err)
		}
	}
}

func TestEnsureVolumeIsIdempotent(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	name := f.cluster + "-data"
	t.Cleanup(func() { _ = f.d.RemoveVolume(f.ctx, name) })
	labels := map[string]string{dockerstate.LabelCluster: f.cluster}
	for i := range 2 {
		if err := f.d.EnsureVolume(f.ctx, name, "local", nil, labels); err != nil {
			t.Fatalf("EnsureVolume #%d: %v", i+1, err)
		}
	}
	if err := f.d.RemoveVolume(f.ctx, name); err != nil {
		t.Fatalf("RemoveVolume: %v", err)
	}
	if err := f.d.RemoveVolume(f.ctx, name); !errors.Is(err, dockerstate.ErrNotFound) {
		t.Errorf("second RemoveVolume: %v; want ErrNotFound", err)
	}
}

func TestRemoveContainerAnnouncesRemoval(t *testing.T) {
	f := newFixture(t, dockerstate.Options{})
	f.run()
	c := f.start(f.config("done", "sleep"))
	from := f.changes.mark()
	if err := f.d.RemoveContainer(f.ctx, c.ID, true); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	if _, ok := f.d.Container(c.ID); ok {
		t.Error("container still cached after RemoveContainer returned")
	}
	f.changes.waitFor(t, from, 0, "removal", func(ch dockerstate.Change) bool {
		return isContainer(ch, c.ID, dockerstate.ContainerRemoved)
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
