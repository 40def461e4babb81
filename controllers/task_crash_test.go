package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate/dockerfake"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

// reconcileIgnoringErrors runs n passes, as the queue would retry them.
func (f *fixture) reconcileIgnoringErrors(name string, n int) {
	f.t.Helper()
	for range n {
		_, _ = f.r.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
	}
}

// TestCreateWhoseAnswerWasLostIsAdoptedNotRepeated: the daemon created the
// container but the client timed out (and the cache has not seen the
// container yet): the retry finds it by the name persisted before the
// create, and no second container is made.
func TestCreateWhoseAnswerWasLostIsAdoptedNotRepeated(t *testing.T) {
	f := newFixture(t)
	f.docker.LoseAnswer(dockerfake.CreateContainer)
	f.addTask("t1", ctr("main"))
	f.reconcileIgnoringErrors("t1", 5)
	task := f.settle("t1")
	if n := len(f.docker.DaemonContainers()); n != 1 {
		t.Fatalf("%d containers in the daemon after a create whose answer was lost, want 1", n)
	}
	cs := task.Status.ContainerStatusFor("main")
	if task.Status.KnownStatus != apiv1.StatusRunning || cs.DockerID != f.docker.DaemonContainers()[0].ID {
		t.Fatalf("task %s with container %s, want RUNNING on the one container", task.Status.KnownStatus, cs.DockerID)
	}
}

// TestNoCreateBeforeTheNameIsPersisted: a create happens only once its
// name is in the store.
func TestNoCreateBeforeTheNameIsPersisted(t *testing.T) {
	f := newFixture(t)
	faulty := store.NewFaulty(f.store)
	f.r.Store = faulty
	f.addTask("t1", ctr("main"))
	faulty.FailNext("UpdateStatus", 1, errors.New("disk full"))
	f.reconcileIgnoringErrors("t1", 1)
	if n := f.docker.Calls(dockerfake.CreateContainer); n != 0 {
		t.Fatalf("%d creates while the container's name could not be persisted, want 0", n)
	}
	if task := f.settle("t1"); task.Status.KnownStatus != apiv1.StatusRunning || len(f.docker.DaemonContainers()) != 1 {
		t.Fatalf("task %s with %d containers after the store healed, want RUNNING with 1", task.Status.KnownStatus, len(f.docker.DaemonContainers()))
	}
}

// TestOnePassTakesATaskToRunning: a pass stores the containers' ids and
// names, creates, stores the created container and starts it, without
// waiting for its own writes or the create's Docker event to requeue it.
func TestOnePassTakesATaskToRunning(t *testing.T) {
	f := newFixture(t)
	f.addTask("t1", ctr("main"))
	f.reconcileIgnoringErrors("t1", 1)
	task := f.task("t1")
	cs := task.Status.ContainerStatusFor("main")
	if task.Status.KnownStatus != apiv1.StatusRunning || cs.DockerID == "" || cs.MetadataID == "" || f.docker.Calls(dockerfake.StartContainer) != 1 {
		t.Fatalf("after one pass: task %s, container %+v, %d starts; want RUNNING with its id, metadata id and one start",
			task.Status.KnownStatus, cs, f.docker.Calls(dockerfake.StartContainer))
	}
}

// TestNoStartBeforeTheCreatedContainerIsPersisted: a created container's
// id is in the store before it is started; a pass that cannot write it
// leaves the start to a later pass, which adopts the container rather than
// making another.
func TestNoStartBeforeTheCreatedContainerIsPersisted(t *testing.T) {
	f := newFixture(t)
	faulty := store.NewFaulty(f.store)
	f.r.Store = faulty
	// Ids and name already stored, so that the pass's first status write
	// is the created container's.
	task := &apiv1.Task{Spec: apiv1.TaskSpec{
		Arn: "arn:aws:ecs:local:000000000000:task/test/t1", Family: "fam", Revision: 1,
		DesiredStatus: apiv1.StatusRunning, Containers: []apiv1.ContainerSpec{ctr("main")}, Source: apiv1.SourceStatic,
	}}
	task.Name = "t1"
	task.Status.Containers = []apiv1.ContainerStatus{{Name: "main", KnownStatus: apiv1.StatusNone, MetadataID: "m1", DockerName: "ecs-fam-1-main-0123456789abcdef0123"}}
	if err := f.store.Create(f.ctx, task); err != nil {
		t.Fatal(err)
	}
	faulty.FailNext("UpdateStatus", 1, errors.New("disk full"))
	f.reconcileIgnoringErrors("t1", 1)
	if n, c := f.docker.Calls(dockerfake.StartContainer), len(f.docker.DaemonContainers()); n != 0 || c != 1 {
		t.Fatalf("%d starts and %d containers while the created container could not be persisted, want 0 and 1", n, c)
	}
	if task := f.settle("t1"); task.Status.KnownStatus != apiv1.StatusRunning || len(f.docker.DaemonContainers()) != 1 {
		t.Fatalf("task %s with %d containers after the store healed, want RUNNING with 1", task.Status.KnownStatus, len(f.docker.DaemonContainers()))
	}
}

// TestNoStopSignalBeforeTheStopIsPersisted: the stop request is in the
// store before SIGTERM goes out, so a crash cannot restart the stop
// timeout; a process that finds a request it did not send sends it, under
// the first request's deadline.
func TestNoStopSignalBeforeTheStopIsPersisted(t *testing.T) {
	f := newFixture(t)
	faulty := store.NewFaulty(f.store)
	f.r.Store = faulty
	f.addTask("t1", ctr("main"))
	id := f.settle("t1").Status.ContainerStatusFor("main").DockerID
	f.docker.IgnoreSignal(id, "SIGTERM")
	if _, err := store.Mutate(f.ctx, f.store, "t1", func(t *apiv1.Task) error { t.Spec.DesiredStatus = apiv1.StatusStopped; return nil }); err != nil {
		t.Fatal(err)
	}
	faulty.FailNext("UpdateStatus", 1, errors.New("disk full"))
	f.reconcileIgnoringErrors("t1", 1)
	if got := f.docker.Signals(id); len(got) != 0 {
		t.Fatalf("signals %v sent while the stop could not be persisted, want none", got)
	}

	// The request is persisted, then the agent dies before the signal.
	f.docker.Fail(dockerfake.SignalContainer, 1, dockerfake.ErrTransient)
	f.reconcileIgnoringErrors("t1", 1)
	asked := f.task("t1").Status.ContainerStatusFor("main").StopRequestedAt
	if asked == nil || len(f.docker.Signals(id)) != 0 {
		t.Fatalf("stop request %v, signals %v: want a persisted request and no signal", asked, f.docker.Signals(id))
	}
	f.r = &TaskReconciler{Store: f.r.Store, Docker: f.r.Docker, Ports: f.r.Ports, Now: f.r.Now, Opts: f.r.Opts}
	f.now = f.now.Add(10 * time.Second)
	f.settle("t1")
	if got := f.docker.Signals(id); len(got) != 1 || got[0] != "SIGTERM" {
		t.Fatalf("signals after the restart %v, want the SIGTERM the first process never sent", got)
	}
	f.now = asked.Add(31 * time.Second)
	if task := f.settle("t1"); task.Status.KnownStatus != apiv1.StatusStopped || f.docker.Signals(id)[1] != "SIGKILL" {
		t.Fatalf("task %s, signals %v: want SIGKILL at the first request's deadline", task.Status.KnownStatus, f.docker.Signals(id))
	}
}

// TestSlowRegistryHoldsOnlyItsShareOfPulls: pulls from a registry that
// trickles (here: hangs) hold at most PullsPerRegistry workers; a pull from
// another registry still runs at once.
func TestSlowRegistryHoldsOnlyItsShareOfPulls(t *testing.T) {
	f := newFixture(t)
	images := &ImageReconciler{Store: f.store, Docker: f.docker, Now: func() time.Time { return f.now }, Opts: ImageOptions{PullBehavior: apiv1.PullAlways}}
	ask := func(ref string) reconcile.Request {
		img := &apiv1.Image{Spec: apiv1.ImageSpec{Ref: ref, Requests: []apiv1.PullRequest{{Task: "t", At: microTime(f.now)}}}}
		img.Name = apiv1.ImageObjectName(ref)
		if err := f.store.Create(f.ctx, img); err != nil {
			t.Fatal(err)
		}
		return reconcile.Request{NamespacedName: types.NamespacedName{Name: img.Name}}
	}
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	f.docker.Hang(dockerfake.PullImage, PullsPerRegistry)
	var hung sync.WaitGroup
	for i := range PullsPerRegistry {
		req := ask(fmt.Sprintf("slow.example.com/app%d:1", i))
		hung.Add(1)
		go func() { defer hung.Done(); _, _ = images.Reconcile(ctx, req) }()
	}
	testwait.For(t, "the slow registry's pulls in flight", 10*time.Second, 5*time.Millisecond, func() (bool, string) {
		n := f.docker.Calls(dockerfake.PullImage)
		return n == PullsPerRegistry, fmt.Sprintf("%d pulls", n)
	})
	res, err := images.Reconcile(f.ctx, ask("slow.example.com/one-more:1"))
	if err != nil || res.RequeueAfter <= 0 || f.docker.Calls(dockerfake.PullImage) != PullsPerRegistry {
		t.Fatalf("one more pull from the slow registry: %+v %v, %d pulls; want it to wait its turn", res, err, f.docker.Calls(dockerfake.PullImage))
	}
	f.docker.AddImage("fast.example.com/app:1", dockerstate.Image{Size: 1})
	if _, err := images.Reconcile(f.ctx, ask("fast.example.com/app:1")); err != nil {
		t.Fatal(err)
	}
	if n := f.docker.Calls(dockerfake.PullImage); n != PullsPerRegistry+1 {
		t.Fatalf("%d pulls, want the other registry's pull to run beside the slow ones", n)
	}
	cancel()
	hung.Wait()
}
