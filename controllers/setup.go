package controllers

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Queue is a controller's work queue, keyed by object name.
type Queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// reportWorkers is how many tasks' reports are sent at once: reports of
// one task are sequential (a task is never in two workers), of different
// tasks parallel.
const reportWorkers = 4

// Set is the agent's reconcilers, built with their watches and started
// together. Controllers run without an API server: their sources are store
// watches and the Docker cache's changes, not informers.
type Set struct {
	Store store.Store
	// Docker's cache changes requeue the tasks they concern.
	Docker DockerChanges
	Tasks  *TaskReconciler
	Images *ImageReconciler
	Ports  *PortReconciler
	// ImageCleanup is optional: nil when image cleanup is disabled. It
	// runs as its own controller with one worker, so a cycle never holds
	// up task starts.
	ImageCleanup *ImageCleanupReconciler
	// Reporter is optional: nil when the agent runs offline. It sends the
	// state of ECS tasks to the control plane.
	Reporter *ReportReconciler
	// Credentials keeps tasks' role credentials; CredentialsChanges (the
	// holder) tells both it and the tasks reconciler when credentials came
	// or went.
	Credentials        *CredentialsReconciler
	CredentialsChanges CredentialsChanges
	Log                logr.Logger
	// TaskWorkers is how many tasks reconcile at once.
	TaskWorkers int
	// StuckAfter bounds one reconcile, by controller name ("task", "image",
	// "port", "imagecleanup", "report"), for Healthy; a controller not
	// named gets DefaultStuckAfter. The images reconciler pulls in place,
	// so its bound must exceed the pull timeout.
	StuckAfter map[string]time.Duration

	started atomic.Bool
	health  health
	workers map[string]int // by controller name, for the start-up line
}

// Started reports whether every controller has started.
func (s *Set) Started() bool { return s.started.Load() }

// Run builds the controllers and runs them until ctx ends.
func (s *Set) Run(ctx context.Context) error {
	workers := max(s.TaskWorkers, 1)
	tasks, err := s.newController("task", s.Tasks, workers, s.taskSources()...)
	if err != nil {
		return err
	}
	// Tasks reach the images reconciler through their requests, which
	// are writes to the Image.
	images, err := s.newController("image", s.Images, ImageWorkers, s.watch("Image", sameName))
	if err != nil {
		return err
	}
	ports, err := s.newController("port", s.Ports, 1,
		s.watch("Task", taskOfTask),
		s.watch("PortAllocation", taskOfAllocation),
	)
	if err != nil {
		return err
	}
	all := []controller.TypedController[reconcile.Request]{tasks, images, ports}
	if s.Credentials != nil {
		creds, err := s.newController("credentials", s.Credentials, 2,
			s.watch("Task", taskOfTask), s.watch("Credentials", taskOfCredentials), s.credentialsSource())
		if err != nil {
			return err
		}
		all = append(all, creds)
	}
	if s.ImageCleanup != nil {
		cleanup, err := s.newController("imagecleanup", s.ImageCleanup, 1, s.ImageCleanup.Source())
		if err != nil {
			return err
		}
		all = append(all, cleanup)
	}
	if s.Reporter != nil {
		// Reports are watched too so that the report of a task deleted
		// while the agent was down is found and forgotten at start.
		report, err := s.newController("report", s.Reporter, reportWorkers, s.watch("Task", taskOfTask), s.watch("TaskReport", sameName))
		if err != nil {
			return err
		}
		all = append(all, report)
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, c := range all {
		g.Go(func() error { return c.Start(ctx) })
	}
	s.Log.Info("reconcilers started", "workers", s.workers)
	s.started.Store(true)
	defer s.started.Store(false)
	return g.Wait()
}

// taskSources are what requeues a task: its own writes, answers of its
// images, released ports, its report, and Docker's changes.
func (s *Set) taskSources() []source.Source {
	srcs := []source.Source{
		s.watch("Task", taskOfTask),
		s.watch("Image", tasksOfImage),
		s.watchThenList("PortAllocation", portReleased, s.tasksNotRunning),
		s.watch("TaskReport", sameName),
		s.dockerSource(),
	}
	if s.Credentials != nil {
		srcs = append(srcs, s.watch("Credentials", taskOfCredentials), s.credentialsSource())
	}
	return srcs
}

func (s *Set) newController(name string, r reconcile.Reconciler, workers int, srcs ...source.Source) (controller.TypedController[reconcile.Request], error) {
	opts := controller.TypedOptions[reconcile.Request]{
		Reconciler:              tracked{name: name, r: r, health: &s.health},
		MaxConcurrentReconciles: workers,
		// One process may build the set more than once (tests); names
		// only label metrics here.
		SkipNameValidation: ptr.To(true),
		RecoverPanic:       ptr.To(true),
		Logger:             quietLifecycle(s.Log.WithName(name)),
	}
	if rl, ok := r.(interface {
		RateLimiter() workqueue.TypedRateLimiter[reconcile.Request]
	}); ok {
		opts.RateLimiter = rl.RateLimiter()
	}
	c, err := controller.NewTypedUnmanaged(name, opts)
	if err != nil {
		return nil, fmt.Errorf("build %s controller: %w", name, err)
	}
	if s.workers == nil {
		s.workers = map[string]int{}
	}
	s.workers[name] = workers
	for _, src := range srcs {
		if err := c.Watch(src); err != nil {
			return nil, fmt.Errorf("watch for %s controller: %w", name, err)
		}
	}
	return c, nil
}

// mapFunc turns a store change into the requests it causes. It runs inside
// the store's watch callback, on the writer's goroutine: it must not call
// the store (a read there waits behind the writer's lock, and deadlocks
// against Close). A mapping that must read goes through watchThenList.
type mapFunc func(ctx context.Context, e store.Event) []string

// watch is a source fed by the store's watch of one kind. It also enqueues
// every existing object once at start, which is how work left by a crash is
// picked up again.
func (s *Set) watch(kind string, fn mapFunc) source.Source {
	return source.Func(func(ctx context.Context, q Queue) error {
		cancel := s.Store.Watch(kind, func(e store.Event) { enqueue(q, fn(ctx, e)) })
		go func() {
			<-ctx.Done()
			cancel()
		}()
		objs, err := listKind(ctx, s.Store, kind)
		if err != nil {
			return err
		}
		for _, o := range objs {
			enqueue(q, fn(ctx, store.Event{Type: store.Added, Kind: kind, Name: o.GetName(), Object: o}))
		}
		return nil
	})
}

// watchThenList is a source for changes whose requests only a read of the
// store can tell: a change of kind that when accepts triggers list on the
// relister's goroutine, once at start too.
func (s *Set) watchThenList(kind string, when func(store.Event) bool, list func(context.Context) ([]string, error)) source.Source {
	return source.Func(func(ctx context.Context, q Queue) error {
		rl := s.relister(ctx, q, kind, list)
		cancel := s.Store.Watch(kind, func(e store.Event) {
			if when(e) {
				rl.trigger()
			}
		})
		go func() {
			<-ctx.Done()
			cancel()
		}()
		rl.trigger()
		return nil
	})
}

// relister runs one store-reading mapping on a goroutine of its own. A
// trigger while it lists makes it list once more after, so a burst of
// changes costs two lists, not one per change.
type relister struct{ kick chan struct{} }

func (rl relister) trigger() {
	select {
	case rl.kick <- struct{}{}:
	default: // a list is due already and will see this change
	}
}

func (s *Set) relister(ctx context.Context, q Queue, what string, list func(context.Context) ([]string, error)) relister {
	rl := relister{kick: make(chan struct{}, 1)}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-rl.kick:
			}
			names, err := list(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.Log.Error(err, "requeue after a change", "of", what)
				}
				continue
			}
			enqueue(q, names)
		}
	}()
	return rl
}

// dockerSource requeues the task a container belongs to when Docker's state
// of it changes, the tasks still waiting for images when an image comes or
// goes, and every task after a resync.
func (s *Set) dockerSource() source.Source {
	return source.Func(func(ctx context.Context, q Queue) error {
		images := s.relister(ctx, q, "docker images", s.tasksWaitingForImages)
		resync := s.relister(ctx, q, "docker resync", s.allTasks)
		cancel := s.Docker.Subscribe(func(ch dockerstate.Change) {
			switch ch.Kind {
			case dockerstate.Resynced:
				resync.trigger()
			case dockerstate.ImageChanged:
				images.trigger()
			default:
				if ch.Container != nil && ch.Container.TaskARN() != "" {
					enqueue(q, []string{apiv1.TaskNameFromARN(ch.Container.TaskARN())})
				}
			}
		})
		go func() {
			<-ctx.Done()
			cancel()
		}()
		return nil
	})
}

func enqueue(q Queue, names []string) {
	for _, n := range names {
		if n != "" {
			q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Name: n}})
		}
	}
}

// watchedLists makes an empty list of each kind the controllers watch.
var watchedLists = map[string]func() store.ObjectList{
	"Task":           func() store.ObjectList { return &apiv1.TaskList{} },
	"Image":          func() store.ObjectList { return &apiv1.ImageList{} },
	"PortAllocation": func() store.ObjectList { return &apiv1.PortAllocationList{} },
	"TaskReport":     func() store.ObjectList { return &apiv1.TaskReportList{} },
	"Credentials":    func() store.ObjectList { return &apiv1.CredentialsList{} },
}

func listKind(ctx context.Context, s store.Store, kind string) ([]store.Object, error) {
	newList, ok := watchedLists[kind]
	if !ok {
		return nil, fmt.Errorf("list %s: kind not watched by controllers", kind)
	}
	list := newList()
	if err := s.List(ctx, list); err != nil {
		return nil, fmt.Errorf("list %s: %w", kind, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kind, err)
	}
	out := make([]store.Object, 0, len(items))
	for _, item := range items {
		if o, ok := item.(store.Object); ok {
			out = append(out, o)
		}
	}
	return out, nil
}

func sameName(_ context.Context, e store.Event) []string { return []string{e.Name} }

func taskOfTask(_ context.Context, e store.Event) []string { return []string{e.Name} }

func taskOfCredentials(_ context.Context, e store.Event) []string {
	if c, ok := e.Object.(*apiv1.Credentials); ok {
		return []string{c.Spec.Task}
	}
	return nil
}

// CredentialsChanges is the credentials holder's change feed.
type CredentialsChanges interface {
	Subscribe(fn func(credentials.Key)) (cancel func())
}

// credentialsSource requeues the task whose role's credentials changed in
// the holder (ACS put new ones, a restart left an id without any).
func (s *Set) credentialsSource() source.Source {
	return source.Func(func(ctx context.Context, q Queue) error {
		if s.CredentialsChanges == nil {
			return nil
		}
		cancel := s.CredentialsChanges.Subscribe(func(k credentials.Key) {
			enqueue(q, []string{apiv1.TaskNameFromARN(k.TaskARN)})
		})
		go func() {
			<-ctx.Done()
			cancel()
		}()
		return nil
	})
}

func taskOfAllocation(_ context.Context, e store.Event) []string {
	if pa, ok := e.Object.(*apiv1.PortAllocation); ok {
		return []string{pa.Spec.Task}
	}
	return nil
}

// tasksOfImage requeues the tasks an Image's change may let go on: those
// still waiting for an answer, those the latest answer answered, and, when
// the Image is deleted (removed by cleanup), every task that used it. A
// pull's progress writes wake no task that is past its image.
func tasksOfImage(_ context.Context, e store.Event) []string {
	img, ok := e.Object.(*apiv1.Image)
	if !ok {
		return nil
	}
	var names []string
	if e.Type == store.Deleted {
		for _, r := range img.Spec.Requests {
			names = append(names, r.Task)
		}
		return names
	}
	names = img.Status.LastAnswered()
	for _, r := range img.Pending() {
		names = append(names, r.Task)
	}
	return names
}

// waitingForImages reports whether some container of the task may still
// ask for its image: none has been created yet for one of them (the task's
// known status is its least advanced container's).
func waitingForImages(t *apiv1.Task) bool {
	return rank(t.Status.KnownStatus) < rank(apiv1.StatusCreated)
}

// portReleased: a port let go may be the one a task waits for.
func portReleased(e store.Event) bool { return e.Type == store.Deleted }

// tasksNotRunning are the tasks that may still wait for a port.
func (s *Set) tasksNotRunning(ctx context.Context) ([]string, error) {
	return s.tasksWhere(ctx, func(t *apiv1.Task) bool { return rank(t.Status.KnownStatus) < rank(apiv1.StatusRunning) })
}

// tasksWaitingForImages are the tasks an image coming or going may concern.
func (s *Set) tasksWaitingForImages(ctx context.Context) ([]string, error) {
	return s.tasksWhere(ctx, waitingForImages)
}

func (s *Set) allTasks(ctx context.Context) ([]string, error) {
	return s.tasksWhere(ctx, func(*apiv1.Task) bool { return true })
}

func (s *Set) tasksWhere(ctx context.Context, keep func(*apiv1.Task) bool) ([]string, error) {
	var l apiv1.TaskList
	if err := s.Store.List(ctx, &l); err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	var names []string
	for i := range l.Items {
		if keep(&l.Items[i]) {
			names = append(names, l.Items[i].Name)
		}
	}
	return names, nil
}
