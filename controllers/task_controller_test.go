package controllers

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate/dockerfake"
	"github.com/ecs-agent/ecs-agent/internal/ports"
	"github.com/ecs-agent/ecs-agent/internal/registryauth"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

const testImage = "example/app:1"

// fixture is a task reconciler over a real bbolt store and the Docker fake,
// with a clock the test moves.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	store  *store.Bolt
	docker *dockerfake.Fake
	now    time.Time
	r      *TaskReconciler
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "agent.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, ctx: context.Background(), store: st, docker: dockerfake.New(), now: time.Unix(1_800_000_000, 0)}
	f.docker.Now = func() time.Time { return f.now }
	f.docker.AddImage(testImage, dockerstate.Image{ID: "sha256:abc", Size: 1000})
	alloc := ports.New(st, ports.Options{
		Dynamic: ports.Range{Start: 40000, End: 40010},
		CanBind: func(string, int32) error { return nil },
	})
	f.r = &TaskReconciler{
		Store: st, Docker: f.docker, Ports: alloc, Now: func() time.Time { return f.now },
		Opts: TaskOptions{Cluster: "test", StopTimeout: 30 * time.Second, CleanupWait: time.Hour},
	}
	return f
}

func (f *fixture) addTask(name string, containers ...apiv1.ContainerSpec) {
	f.t.Helper()
	task := &apiv1.Task{Spec: apiv1.TaskSpec{
		Arn: "arn:aws:ecs:local:000000000000:task/test/" + name, Family: "fam", Revision: 1,
		DesiredStatus: apiv1.StatusRunning, Containers: containers, Source: apiv1.SourceStatic,
	}}
	task.Name = name
	if err := f.store.Create(f.ctx, task); err != nil {
		f.t.Fatal(err)
	}
}

// settle reconciles the task until a pass changes nothing any more.
func (f *fixture) settle(name string) *apiv1.Task {
	f.t.Helper()
	var last string
	for range 20 {
		_, err := f.r.Reconcile(f.ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
		if err != nil {
			f.t.Fatalf("reconcile %s: %v", name, err)
		}
		task := f.task(name)
		if task == nil || task.ResourceVersion == last {
			return task
		}
		last = task.ResourceVersion
	}
	f.t.Fatalf("task %s did not settle in 20 passes", name)
	return nil
}

func (f *fixture) task(name string) *apiv1.Task {
	var task apiv1.Task
	if err := f.store.Get(f.ctx, name, &task); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		f.t.Fatal(err)
	}
	return &task
}

func ctr(name string, deps ...apiv1.ContainerDependency) apiv1.ContainerSpec {
	return apiv1.ContainerSpec{Name: name, Image: testImage, Essential: true, DependsOn: deps}
}

func TestTaskStartsDependencyBeforeDependent(t *testing.T) {
	f := newFixture(t)
	f.addTask("t1", ctr("app", apiv1.ContainerDependency{ContainerName: "db", Condition: apiv1.ConditionStart}), ctr("db"))
	task := f.settle("t1")
	if task.Status.KnownStatus != apiv1.StatusRunning {
		t.Fatalf("task is %s, want RUNNING: %+v", task.Status.KnownStatus, task.Status)
	}
	db, app := task.Status.ContainerStatusFor("db"), task.Status.ContainerStatusFor("app")
	if db.StartedAt == nil || app.StartedAt == nil {
		t.Fatalf("containers not started: db %+v app %+v", db, app)
	}
	if f.docker.Calls(dockerfake.CreateContainer) != 2 {
		t.Fatalf("created %d containers, want 2", f.docker.Calls(dockerfake.CreateContainer))
	}
}

func TestDependentWaitsUntilDependencyIsHealthy(t *testing.T) {
	f := newFixture(t)
	db := ctr("db")
	db.HealthCheck = &apiv1.HealthCheck{Command: []string{"CMD", "true"}}
	f.addTask("t1", ctr("app", apiv1.ContainerDependency{ContainerName: "db", Condition: apiv1.ConditionHealthy}), db)
	task := f.settle("t1")
	if got := task.Status.ContainerStatusFor("app").KnownStatus; got != apiv1.StatusCreated {
		t.Fatalf("app is %s before db is healthy, want CREATED", got)
	}
	f.docker.SetHealth(task.Status.ContainerStatusFor("db").DockerID, "healthy", "")
	task = f.settle("t1")
	if got := task.Status.ContainerStatusFor("app").KnownStatus; got != apiv1.StatusRunning {
		t.Fatalf("app is %s after db became healthy, want RUNNING", got)
	}
}

func TestFailedSuccessConditionStopsTask(t *testing.T) {
	f := newFixture(t)
	initC := ctr("init")
	initC.Essential = false
	f.addTask("t1", ctr("app", apiv1.ContainerDependency{ContainerName: "init", Condition: apiv1.ConditionSuccess}), initC)
	task := f.settle("t1")
	f.docker.Exit(task.Status.ContainerStatusFor("init").DockerID, 1)
	task = f.settle("t1")
	if task.Status.KnownStatus != apiv1.StatusStopped {
		t.Fatalf("task is %s, want STOPPED", task.Status.KnownStatus)
	}
	if !strings.Contains(task.Status.StoppedReason, "DependencyError") || !strings.Contains(task.Status.StoppedReason, "code 1") {
		t.Fatalf("stopped reason %q does not name the failed dependency", task.Status.StoppedReason)
	}
	if task.Status.ContainerStatusFor("app").StartedAt != nil {
		t.Fatal("app started although its SUCCESS dependency failed")
	}
}

func TestEssentialExitStopsTaskWithExitCode(t *testing.T) {
	f := newFixture(t)
	side := ctr("side")
	side.Essential = false
	f.addTask("t1", ctr("main"), side)
	task := f.settle("t1")
	f.docker.Exit(task.Status.ContainerStatusFor("main").DockerID, 3)
	task = f.settle("t1")
	sideID := task.Status.ContainerStatusFor("side").DockerID
	if got := f.docker.Signals(sideID); len(got) != 1 || got[0] != "SIGTERM" {
		t.Fatalf("side container got signals %v, want [SIGTERM]", got)
	}
	task = f.settle("t1")
	if task.Status.KnownStatus != apiv1.StatusStopped || task.Status.StoppedReason != apiv1.ReasonEssentialContainerExited {
		t.Fatalf("task %s reason %q, want STOPPED %q", task.Status.KnownStatus, task.Status.StoppedReason, apiv1.ReasonEssentialContainerExited)
	}
	if code := task.Status.ContainerStatusFor("main").ExitCode; code == nil || *code != 3 {
		t.Fatalf("main exit code %v, want 3", code)
	}
}

func TestStopSendsSigkillAfterStopTimeout(t *testing.T) {
	f := newFixture(t)
	f.addTask("t1", ctr("main"))
	task := f.settle("t1")
	id := task.Status.ContainerStatusFor("main").DockerID
	f.docker.IgnoreSignal(id, "SIGTERM")
	if _, err := store.Mutate(f.ctx, f.store, "t1", func(t *apiv1.Task) error { t.Spec.DesiredStatus = apiv1.StatusStopped; return nil }); err != nil {
		t.Fatal(err)
	}
	f.settle("t1")
	if got := f.docker.Signals(id); len(got) != 1 {
		t.Fatalf("signals before the timeout %v, want only SIGTERM", got)
	}
	f.now = f.now.Add(31 * time.Second)
	task = f.settle("t1")
	if got := f.docker.Signals(id); len(got) != 2 || got[1] != "SIGKILL" {
		t.Fatalf("signals after the timeout %v, want SIGTERM then SIGKILL", got)
	}
	if task.Status.KnownStatus != apiv1.StatusStopped {
		t.Fatalf("task is %s after SIGKILL, want STOPPED", task.Status.KnownStatus)
	}
}

func TestRestartAdoptsContainerWhoseIDWasNeverStored(t *testing.T) {
	f := newFixture(t)
	f.addTask("t1", ctr("main"))
	arn := f.task("t1").Spec.Arn
	// As if the agent died right after Docker created the container.
	existing := f.docker.AddContainer(dockerstate.Container{
		Name: "ecs-fam-1-main-abc", Image: testImage, State: dockerstate.StateRunning, StartedAt: f.now,
		Labels: dockerstate.LabelsFor(arn, "main", "fam", 1, "test"),
	})
	task := f.settle("t1")
	if got := task.Status.ContainerStatusFor("main").DockerID; got != existing.ID {
		t.Fatalf("task uses container %s, want the existing %s", got, existing.ID)
	}
	if n := f.docker.Calls(dockerfake.CreateContainer); n != 0 {
		t.Fatalf("created %d containers, want 0 (adopt)", n)
	}
	if task.Status.KnownStatus != apiv1.StatusRunning {
		t.Fatalf("task is %s, want RUNNING", task.Status.KnownStatus)
	}
}

func TestContainerRemovedBehindAgentsBackStopsTask(t *testing.T) {
	f := newFixture(t)
	f.addTask("t1", ctr("main"))
	task := f.settle("t1")
	if err := f.docker.RemoveContainer(f.ctx, task.Status.ContainerStatusFor("main").DockerID, true); err != nil {
		t.Fatal(err)
	}
	task = f.settle("t1")
	if task.Status.KnownStatus != apiv1.StatusStopped || !strings.Contains(task.Status.StoppedReason, "removed outside the agent") {
		t.Fatalf("task %s reason %q, want STOPPED because the container was removed", task.Status.KnownStatus, task.Status.StoppedReason)
	}
}

func TestCleanupRemovesContainersAndTaskAfterWait(t *testing.T) {
	f := newFixture(t)
	f.addTask("t1", ctr("main"))
	task := f.settle("t1")
	id := task.Status.ContainerStatusFor("main").DockerID
	f.docker.Exit(id, 0)
	f.settle("t1")
	if _, ok := f.docker.Container(id); !ok {
		t.Fatal("container removed before the cleanup wait")
	}
	f.now = f.now.Add(time.Hour + time.Second)
	if task := f.settle("t1"); task != nil {
		t.Fatalf("task still stored after cleanup: %+v", task.Status)
	}
	if _, ok := f.docker.Container(id); ok {
		t.Fatal("container still there after cleanup")
	}
}

func TestRefusedTasksStopWithReason(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*apiv1.TaskSpec)
		want   string
	}{
		{"privileged disabled", func(s *apiv1.TaskSpec) { s.Containers[0].Privileged = true }, "ECS_DISABLE_PRIVILEGED"},
		{"definition error", func(s *apiv1.TaskSpec) { s.DefinitionError = "bad.json: containerDefinitions[0].image: required" }, "bad.json"},
		{"dependency cycle", func(s *apiv1.TaskSpec) {
			s.Containers[0].DependsOn = []apiv1.ContainerDependency{{ContainerName: "main", Condition: "START"}}
		}, "cycle"},
		{"log driver not available", func(s *apiv1.TaskSpec) {
			s.Containers[0].LogConfiguration = &apiv1.LogConfiguration{LogDriver: "syslog"}
		}, `container main: log driver "syslog" is not in ECS_AVAILABLE_LOGGING_DRIVERS [json-file]`},
		{"task role", func(s *apiv1.TaskSpec) { s.TaskRoleArn = "arn:aws:iam::1:role/app" },
			"the task has a task role (arn:aws:iam::1:role/app), and task roles are disabled on this instance (ECS_ENABLE_TASK_IAM_ROLE=true enables them)"},
		{"secrets", func(s *apiv1.TaskSpec) {
			s.Containers[0].Secrets = []apiv1.Secret{{Name: "DB", ValueFrom: "arn:aws:ssm:us-east-1:1:parameter/db"}}
		}, "ResourceInitializationError: container main has secrets, and this agent reads none"},
		{"SELinux label", func(s *apiv1.TaskSpec) { s.Containers[0].DockerSecurityOptions = []string{"label:type:spc_t"} },
			`dockerSecurityOptions "label:type:spc_t" needs SELinux, and this instance does not have it (ECS_SELINUX_CAPABLE=false)`},
		{"AppArmor profile", func(s *apiv1.TaskSpec) { s.Containers[0].DockerSecurityOptions = []string{"apparmor:docker-default"} },
			`dockerSecurityOptions "apparmor:docker-default" needs AppArmor, and this instance does not have it (ECS_APPARMOR_CAPABLE=false)`},
	}
	for _, tc := range cases {
		for _, source := range []apiv1.TaskSource{apiv1.SourceStatic, apiv1.SourceECS} {
			t.Run(tc.name+"/"+string(source), func(t *testing.T) {
				f := newFixture(t)
				f.r.Opts.DisablePrivileged = true
				f.r.Opts.LoggingDrivers = []string{"json-file"}
				f.addTask("t1", ctr("main"))
				if _, err := store.Mutate(f.ctx, f.store, "t1", func(t *apiv1.Task) error {
					t.Spec.Source = source
					tc.mutate(&t.Spec)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				task := f.settle("t1")
				if task.Status.KnownStatus != apiv1.StatusStopped || !strings.Contains(task.Status.StoppedReason, tc.want) {
					t.Fatalf("task %s reason %q, want STOPPED mentioning %q", task.Status.KnownStatus, task.Status.StoppedReason, tc.want)
				}
				if n := f.docker.Calls(dockerfake.CreateContainer); n != 0 {
					t.Fatalf("created %d containers for a refused task", n)
				}
			})
		}
	}
}

func TestDynamicPortIsAllocatedBeforeCreate(t *testing.T) {
	f := newFixture(t)
	c := ctr("web")
	c.PortMappings = []apiv1.PortMapping{{ContainerPort: 8080}}
	f.addTask("t1", c)
	task := f.settle("t1")
	cs := task.Status.ContainerStatusFor("web")
	if len(cs.Ports) != 1 || cs.Ports[0].HostPort < 40000 || cs.Ports[0].HostPort > 40010 {
		t.Fatalf("ports %+v, want one host port in 40000-40010", cs.Ports)
	}
	var pa apiv1.PortAllocation
	if err := f.store.Get(f.ctx, apiv1.PortAllocationName("tcp", cs.Ports[0].HostPort), &pa); err != nil || pa.Spec.Task != "t1" {
		t.Fatalf("allocation of host port %d: %+v, %v", cs.Ports[0].HostPort, pa.Spec, err)
	}
}

func TestRestartPolicyRestartsContainerInPlace(t *testing.T) {
	f := newFixture(t)
	c := ctr("main")
	c.RestartPolicy = &apiv1.RestartPolicy{Enabled: true, IgnoredExitCodes: []int32{0}, RestartAttemptPeriod: 60}
	f.addTask("t1", c)
	task := f.settle("t1")
	id := task.Status.ContainerStatusFor("main").DockerID
	f.now = f.now.Add(2 * time.Minute)
	f.docker.Exit(id, 2)
	task = f.settle("t1")
	cs := task.Status.ContainerStatusFor("main")
	if task.Status.KnownStatus != apiv1.StatusRunning || cs.RestartCount != 1 || cs.DockerID != id {
		t.Fatalf("task %s, container %s restarts %d id %s; want RUNNING, same container restarted once", task.Status.KnownStatus, cs.KnownStatus, cs.RestartCount, cs.DockerID)
	}
	// An ignored exit code is a normal end: the essential container's
	// exit stops the task.
	f.now = f.now.Add(2 * time.Minute)
	f.docker.Exit(id, 0)
	task = f.settle("t1")
	if task.Status.KnownStatus != apiv1.StatusStopped {
		t.Fatalf("task is %s after an ignored exit code, want STOPPED", task.Status.KnownStatus)
	}
}

func TestMissingImageIsPulledThroughImageObject(t *testing.T) {
	f := newFixture(t)
	c := ctr("main")
	c.Image = "example/missing:1"
	f.addTask("t1", c)
	task := f.settle("t1")
	if task.Status.KnownStatus != apiv1.StatusNone {
		t.Fatalf("task is %s before the pull, want NONE", task.Status.KnownStatus)
	}
	images := &ImageReconciler{Store: f.store, Docker: f.docker, Now: func() time.Time { return f.now }}
	req := reconcile.Request{NamespacedName: types.NamespacedName{Name: apiv1.ImageObjectName(c.Image)}}

	f.docker.SetPull(c.Image, errors.New("manifest unknown"))
	if _, err := images.Reconcile(f.ctx, req); err != nil {
		t.Fatal(err)
	}
	task = f.settle("t1")
	if task.Status.KnownStatus != apiv1.StatusStopped || !strings.Contains(task.Status.StoppedReason, "CannotPullContainerError") ||
		!strings.Contains(task.Status.StoppedReason, "manifest unknown") {
		t.Fatalf("task %s reason %q, want STOPPED with the pull error", task.Status.KnownStatus, task.Status.StoppedReason)
	}

	f.now = f.now.Add(time.Second)
	f.addTask("t2", c)
	f.settle("t2")
	f.docker.SetPull(c.Image, nil)
	if _, err := images.Reconcile(f.ctx, req); err != nil {
		t.Fatal(err)
	}
	if task := f.settle("t2"); task.Status.KnownStatus != apiv1.StatusRunning {
		t.Fatalf("second task is %s after a good pull, want RUNNING (%s)", task.Status.KnownStatus, task.Status.StoppedReason)
	}
}

// TestAnswerForOtherCredentialsDoesNotAnswerALaterRequest: a task whose
// clock was read before another task's failed pull was recorded (its
// reconcile started first) must not take that failure, made with other
// credentials, as the answer to its own request: the answer records whose
// credentials it was made with, and the task gets a pull with its own.
func TestAnswerForOtherCredentialsDoesNotAnswerALaterRequest(t *testing.T) {
	f := newFixture(t)
	f.r.Opts.PullBehavior = apiv1.PullAlways
	other := ctr("main")
	other.Image = "example/private:1"
	other.RepositoryCredentials = &apiv1.RepositoryCredentials{CredentialsParameter: "wrong-secret"}
	mine := ctr("main")
	mine.Image = other.Image
	images := &ImageReconciler{Store: f.store, Docker: f.docker, Now: func() time.Time { return f.now }, Opts: ImageOptions{PullBehavior: apiv1.PullAlways}}
	req := reconcile.Request{NamespacedName: types.NamespacedName{Name: apiv1.ImageObjectName(other.Image)}}

	start := f.now
	f.addTask("other", other)
	f.settle("other")
	f.now = start.Add(2 * time.Second)
	f.docker.SetPull(other.Image, errors.New("unauthorized: authentication required"))
	if _, err := images.Reconcile(f.ctx, req); err != nil {
		t.Fatal(err)
	}
	if task := f.settle("other"); task.Status.KnownStatus != apiv1.StatusStopped {
		t.Fatalf("task with the wrong credentials is %s, want STOPPED", task.Status.KnownStatus)
	}

	// The second task's clock reads a time before the failure was recorded.
	f.now = start.Add(time.Second)
	f.addTask("mine", mine)
	if task := f.settle("mine"); task.Status.KnownStatus == apiv1.StatusStopped {
		t.Fatalf("task stopped with the other task's pull failure: %s", task.Status.StoppedReason)
	}
	f.now = start.Add(3 * time.Second)
	f.docker.SetPull(other.Image, nil)
	if _, err := images.Reconcile(f.ctx, req); err != nil {
		t.Fatal(err)
	}
	if task := f.settle("mine"); task.Status.KnownStatus != apiv1.StatusRunning {
		t.Fatalf("task is %s after a pull with its own credentials, want RUNNING (%s)", task.Status.KnownStatus, task.Status.StoppedReason)
	}
}

// credsDocker fails every pull made with the user "wrong".
type credsDocker struct {
	*dockerfake.Fake
	duringPull func()
}

func (d *credsDocker) PullImage(ctx context.Context, ref string, auth dockerstate.PullAuth, progress func(done, total int64)) error {
	if d.duringPull != nil {
		hook := d.duringPull
		d.duringPull = nil
		hook()
	}
	if auth.Username == "wrong" {
		return errors.New("unauthorized: authentication required")
	}
	return d.Fake.PullImage(ctx, ref, auth, progress)
}

// paramAsUser hands out the credentials parameter's name as the user name.
type paramAsUser struct{}

func (paramAsUser) Auth(_ context.Context, req registryauth.Request) (registryauth.Auth, error) {
	return registryauth.Auth{Username: req.CredentialsParameter, Password: "x", Source: "repositoryCredentials " + req.CredentialsParameter}, nil
}

// TestRequestWithOtherCredentialsDuringAPullGetsItsOwnPull: a task that
// asks, with other credentials, while another task's pull is under way is
// not answered by that pull's failure; the failure is the other task's
// answer, and the second task gets a pull with its own credentials.
func TestRequestWithOtherCredentialsDuringAPullGetsItsOwnPull(t *testing.T) {
	f := newFixture(t)
	f.r.Opts.PullBehavior = apiv1.PullDefault
	wrong := ctr("main")
	wrong.Image = "example/private:1"
	wrong.RepositoryCredentials = &apiv1.RepositoryCredentials{CredentialsParameter: "wrong"}
	right := wrong
	right.RepositoryCredentials = &apiv1.RepositoryCredentials{CredentialsParameter: "right"}
	docker := &credsDocker{Fake: f.docker}
	images := &ImageReconciler{Store: f.store, Docker: docker, Now: func() time.Time { return f.now }, Auth: paramAsUser{}, Opts: ImageOptions{PullBehavior: apiv1.PullDefault}}
	req := reconcile.Request{NamespacedName: types.NamespacedName{Name: apiv1.ImageObjectName(wrong.Image)}}

	f.addTask("wrong", wrong)
	f.settle("wrong")
	docker.duringPull = func() {
		f.now = f.now.Add(time.Second)
		f.addTask("right", right)
		f.settle("right")
	}
	f.now = f.now.Add(time.Second)
	if _, err := images.Reconcile(f.ctx, req); err != nil {
		t.Fatal(err)
	}
	task := f.settle("wrong")
	if task.Status.KnownStatus != apiv1.StatusStopped || !strings.Contains(task.Status.StoppedReason, "repositoryCredentials wrong") {
		t.Fatalf("task with the wrong credentials is %s (%q), want STOPPED with its pull's failure", task.Status.KnownStatus, task.Status.StoppedReason)
	}
	if task := f.settle("right"); task.Status.KnownStatus != apiv1.StatusNone {
		t.Fatalf("task with the right credentials is %s (%q) before its own pull, want NONE", task.Status.KnownStatus, task.Status.StoppedReason)
	}
	f.now = f.now.Add(time.Second)
	if _, err := images.Reconcile(f.ctx, req); err != nil {
		t.Fatal(err)
	}
	if task := f.settle("right"); task.Status.KnownStatus != apiv1.StatusRunning {
		t.Fatalf("task with the right credentials is %s (%q), want RUNNING", task.Status.KnownStatus, task.Status.StoppedReason)
	}
	if n := f.docker.Calls(dockerfake.PullImage); n != 1 {
		t.Fatalf("%d successful pulls, want 1", n)
	}
}

// TestImageChangesWakeOnlyTasksWaitingForThem: an Image's writes requeue
// the tasks still waiting for an answer and those the latest answer
// answered; a pull's progress writes never wake a task past its image, and
// a removal wakes every user.
func TestImageChangesWakeOnlyTasksWaitingForThem(t *testing.T) {
	at := func(s int64) *metav1.MicroTime { m := metav1.NewMicroTime(time.Unix(s, 0)); return &m }
	img := &apiv1.Image{Spec: apiv1.ImageSpec{Ref: testImage, Requests: []apiv1.PullRequest{
		{Task: "answered-before", At: at(1)},
		{Task: "answered-now", At: at(2)},
		{Task: "cached", At: nil},
		{Task: "waiting", At: at(3)},
	}}}
	img.Status.Answers = []apiv1.PullAnswer{
		{Task: "answered-before", RequestedAt: *at(1), Phase: apiv1.ImagePresent, AnsweredAt: *at(1)},
		{Task: "answered-now", RequestedAt: *at(2), Phase: apiv1.ImagePresent, AnsweredAt: *at(2)},
	}
	got := tasksOfImage(context.Background(), store.Event{Type: store.Modified, Kind: "Image", Object: img})
	slices.Sort(got)
	if want := []string{"answered-now", "waiting"}; !slices.Equal(got, want) {
		t.Errorf("a modified image wakes %v, want %v", got, want)
	}
	got = tasksOfImage(context.Background(), store.Event{Type: store.Deleted, Kind: "Image", Object: img})
	if len(got) != 4 {
		t.Errorf("a deleted image wakes %v, want all 4 users", got)
	}
}
