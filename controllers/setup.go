package controllers

import (
	"context"
	"fmt"
	"sync/atomic"

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

	started atomic.Bool
}

// Started reports whether every controller has started.
func (s *Set) Started() bool { return s.started.Load() }

// Run builds the controllers and runs them until ctx ends.
func (s *Set) Run(ctx context.Context) error {
	workers := max(s.TaskWorkers, 1)
	taskSources := []source.Source{
		s.watch("Task", taskOfTask),
		s.watch("Image", tasksOfImage),
		s.watch("PortAllocation", s.tasksWaitingForPorts),
		s.watch("TaskReport", sameName),
		s.dockerSource(),
	}
	if s.Credentials != nil {
		taskSources = append(taskSources, s.watch("Credentials", taskOfCredentials), s.credentialsSource())
	}
	tasks, err := s.newController("task", s.Tasks, workers, taskSources...)
	if err != nil {
		return err
	}
	// Tasks reach the images reconciler through their requests, which
	// are writes to the Image.
	images, err := s.newController("image", s.Images, 2, s.watch("Image", sameName))
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
	s.started.Store(true)
	defer s.started.Store(false)
	return g.Wait()
}

func (s *Set) newController(name string, r reconcile.Reconciler, workers int, srcs ...source.Source) (controller.TypedController[reconcile.Request], error) {
	opts := controller.TypedOptions[reconcile.Request]{
		Reconciler:              r,
		MaxConcurrentReconciles: workers,
		// One process may build the set more than once (tests); names
		// only label metrics here.
		SkipNameValidation: ptr.To(true),
		RecoverPanic:       ptr.To(true),
		Logger:             s.Log.WithName(name),
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
	for _, src := range srcs {
		if err := c.Watch(src); err != nil {
			return nil, fmt.Errorf("watch for %s controller: %w", name, err)
		}
	}
	return c, nil
}

// mapFunc turns a store change into the requests it causes.
type mapFunc func(ctx context.Context, e store.Event) []string

// watch is a source fed by the store's watch of one kind. It also enqueues
// every existing object once at start, which is how work left by a crash is
// picked up again.
func (s *Set) watch(kind string, fn mapFunc) source.Source {
	return source.Func(func(ctx context.Context, q Queue) error {
		cancel := s.Store.Watch(kind, func(e store.Event) {
			// Watch callbacks must not call the store: map on a
			// goroutine when the map needs to read.
			go enqueue(q, fn(ctx, e))
		})
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

// dockerSource requeues the task a container belongs to when Docker's state
// of it changes, and every task after a resync.
func (s *Set) dockerSource() source.Source {
	return source.Func(func(ctx context.Context, q Queue) error {
		cancel := s.Docker.Subscribe(func(ch dockerstate.Change) {
			switch ch.Kind {
			case dockerstate.Resynced, dockerstate.ImageChanged:
				go func() {
					tasks, err := listKind(ctx, s.Store, "Task")
					if err != nil {
						s.Log.Error(err, "requeue tasks after docker resync")
						return
					}
					for _, t := range tasks {
						// Only a task still waiting for its images cares
						// that one came or went.
						if tk, ok := t.(*apiv1.Task); ch.Kind == dockerstate.Resynced || !ok || waitingForImages(tk) {
							enqueue(q, []string{t.GetName()})
						}
					}
				}()
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

// tasksWaitingForPorts requeues tasks that are not running yet when a port
// is let go: one of them may be waiting for it.
func (s *Set) tasksWaitingForPorts(ctx context.Context, e store.Event) []string {
	if e.Type != store.Deleted {
		return nil
	}
	var l apiv1.TaskList
	if err := s.Store.List(ctx, &l); err != nil {
		s.Log.Error(err, "requeue tasks waiting for ports")
		return nil
	}
	var names []string
	for _, t := range l.Items {
		if rank(t.Status.KnownStatus) < rank(apiv1.StatusRunning) {
			names = append(names, t.Name)
		}
	}
	return names
}
