package controlplane

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/go-logr/logr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Instance statuses ECS reports (ContainerInstance.status).
const (
	InstanceActive   = "ACTIVE"
	InstanceDraining = "DRAINING"
)

// Poll timing defaults.
const (
	DefaultPollInterval = 10 * time.Second
	// BackstopInterval is the wait between polls while an ACS session is
	// open: ECS pushes what changes, and the poll only catches what a
	// session might have missed.
	BackstopInterval = 5 * time.Minute
	// maxPollBackoff caps the wait between failed polls: the API being down
	// or throttling for minutes costs at most one attempt per this.
	maxPollBackoff = 2 * time.Minute
	// describeBatch is DescribeTasks' limit of tasks per call.
	describeBatch = 100
	// maxCachedDefinitions bounds the task definition cache; definitions
	// never change under one ARN, so the cache is only ever cleared.
	maxCachedDefinitions = 512
)

// ReasonDraining is the stopped reason of a task that ECS placed on this
// instance after it started draining.
const ReasonDraining = "Container instance is DRAINING: not accepting new tasks"

// Poller pulls this instance's desired tasks from ECS and writes them as
// Task objects. One poll costs:
//
//   - DescribeContainerInstances: 1 call (the instance's status: DRAINING);
//   - ListTasks with desiredStatus RUNNING, then STOPPED: 2 calls, one more
//     per 100 tasks beyond the first 100 in either list;
//   - DescribeTasks: only when a task ARN appears that the store does not
//     hold, 1 call per 100 new tasks;
//   - DescribeTaskDefinition: once per task definition ARN for the life of
//     the process (cached; definitions are immutable under their ARN).
//
// A task's desired status comes from which list holds it, so a task the
// agent already runs costs nothing beyond the lists: ECS never changes a
// placed task's definition or overrides, only its desired status.
type Poller struct {
	Client  *Client
	Store   store.Store
	Cluster string
	// Instance is the container instance ARN (from Register).
	Instance string
	// Interval is ECS_POLL_INTERVAL; each wait is jittered by up to a fifth.
	Interval time.Duration
	// SessionUp, when set, tells whether an ACS session is open: polling is
	// then only the backstop, BackstopInterval apart.
	SessionUp func() bool
	// Wake, when it yields, ends the wait and polls at once (the ACS
	// session dropped: polling covers until it is back).
	Wake <-chan struct{}
	Log  logr.Logger

	mu       sync.Mutex
	defs     map[string]*types.TaskDefinition
	status   atomic.Value // string: the instance's last status
	failures int
	// unlisted are the ARNs of our tasks the last poll's ListTasks left
	// out. Poll runs on one goroutine at a time.
	unlisted map[string]bool
}

// Status is the container instance's status as last seen (ACTIVE, DRAINING).
func (p *Poller) Status() string {
	s, _ := p.status.Load().(string)
	return s
}

// Run polls until ctx ends. Errors never end it: the tasks already written
// keep running however long the API is away.
func (p *Poller) Run(ctx context.Context) error {
	for {
		err := p.Poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := p.next(err)
		if err != nil {
			pollErrors.Inc()
			p.Log.Info("poll of the ECS API failed; backing off", "error", err.Error(), "retryIn", wait.Round(time.Millisecond).String())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		case <-p.Wake:
		}
	}
}

// next is the wait before the next poll: the interval after success,
// doubling per consecutive failure up to maxPollBackoff, with jitter.
func (p *Poller) next(err error) time.Duration {
	base := p.interval()
	if err == nil {
		p.failures = 0
	} else {
		p.failures++
		for i := 1; i < p.failures && base < maxPollBackoff; i++ {
			base *= 2
		}
		base = min(base, maxPollBackoff)
	}
	return base - time.Duration(rand.Int64N(int64(base)/5+1))
}

func (p *Poller) interval() time.Duration {
	if p.SessionUp != nil && p.SessionUp() {
		return BackstopInterval
	}
	if p.Interval > 0 {
		return p.Interval
	}
	return DefaultPollInterval
}

// Poll does one poll: the instance's status, both task lists, and the
// writes they call for.
func (p *Poller) Poll(ctx context.Context) error {
	if err := p.refreshStatus(ctx); err != nil {
		return err
	}
	running, err := p.listTasks(ctx, types.DesiredStatusRunning)
	if err != nil {
		return err
	}
	stopped, err := p.listTasks(ctx, types.DesiredStatusStopped)
	if err != nil {
		return err
	}
	var have apiv1.TaskList
	if err := p.Store.List(ctx, &have); err != nil {
		return fmt.Errorf("list tasks in the store: %w", err)
	}
	known := map[string]*apiv1.Task{}
	for i := range have.Items {
		if t := &have.Items[i]; t.Spec.Source == apiv1.SourceECS {
			known[t.Spec.Arn] = t
		}
	}
	var errs []error
	var fresh []string
	for _, arn := range running {
		if known[arn] == nil {
			fresh = append(fresh, arn)
		}
	}
	if err := p.createTasks(ctx, fresh); err != nil {
		errs = append(errs, err)
	}
	listed := map[string]bool{}
	for _, arn := range running {
		listed[arn] = true
	}
	for _, arn := range stopped {
		if t := known[arn]; t != nil && t.Spec.DesiredStatus != apiv1.StatusStopped {
			errs = append(errs, stopTask(ctx, p.Store, p.Log, t, "stopped by ECS"))
		}
		listed[arn] = true
	}
	// A task in neither list may be one ECS has forgotten (stopped long
	// ago, or its cluster or instance gone), which must not run on; or
	// ListTasks, which is eventually consistent, may have left it out of
	// one answer.
	var unlisted []*apiv1.Task
	for arn, t := range known {
		if !listed[arn] && t.Spec.DesiredStatus != apiv1.StatusStopped {
			unlisted = append(unlisted, t)
		}
	}
	gone, err := p.forgotten(ctx, unlisted)
	if err != nil {
		errs = append(errs, err)
	}
	for _, t := range gone {
		errs = append(errs, stopTask(ctx, p.Store, p.Log, t, "no longer listed by ECS"))
	}
	return errors.Join(errs...)
}

// forgotten picks, of the tasks ListTasks left out, those ECS has really
// forgotten: left out by two polls in a row, and not running by
// DescribeTasks (which reads the task itself). One answer that misses a
// task never stops it.
func (p *Poller) forgotten(ctx context.Context, unlisted []*apiv1.Task) ([]*apiv1.Task, error) {
	before := p.unlisted
	p.unlisted = map[string]bool{}
	var suspects []*apiv1.Task
	for _, t := range unlisted {
		p.unlisted[t.Spec.Arn] = true
		if before[t.Spec.Arn] {
			suspects = append(suspects, t)
		}
	}
	var gone []*apiv1.Task
	for batch := range slices.Chunk(suspects, describeBatch) {
		arns := make([]string, len(batch))
		for i, t := range batch {
			arns[i] = t.Spec.Arn
		}
		out, err := p.Client.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(p.Cluster), Tasks: arns})
		if err != nil {
			return gone, fmt.Errorf("describe %d tasks ListTasks left out: %w", len(arns), err)
		}
		running := map[string]bool{}
		for _, d := range out.Tasks {
			if aws.ToString(d.DesiredStatus) == string(apiv1.StatusRunning) && aws.ToString(d.ContainerInstanceArn) == p.Instance {
				running[aws.ToString(d.TaskArn)] = true
			}
		}
		for _, t := range batch {
			if running[t.Spec.Arn] {
				p.Log.V(1).Info("ListTasks left out a task that DescribeTasks has running; keeping it", "task", t.Name)
				continue
			}
			gone = append(gone, t)
		}
	}
	return gone, nil
}

// refreshStatus reads the instance's status; DRAINING is recorded in the
// ContainerInstance object for the CLI and acted on by createTasks.
func (p *Poller) refreshStatus(ctx context.Context) error {
	out, err := p.Client.ECS.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{
		Cluster: aws.String(p.Cluster), ContainerInstances: []string{p.Instance},
	})
	if err != nil {
		return fmt.Errorf("describe container instance %s: %w", p.Instance, err)
	}
	if len(out.ContainerInstances) == 0 {
		return fmt.Errorf("describe container instance %s: ECS does not know it (failures: %d)", p.Instance, len(out.Failures))
	}
	status := aws.ToString(out.ContainerInstances[0].Status)
	if status == p.Status() {
		return nil
	}
	if p.Status() != "" || status != InstanceActive {
		p.Log.Info("container instance status changed", "status", status)
	}
	p.status.Store(status)
	_, err = store.Mutate(ctx, p.Store, apiv1.ContainerInstanceName, func(ci *apiv1.ContainerInstance) error {
		ci.Status.Status = status
		return nil
	})
	if err != nil {
		return fmt.Errorf("record container instance status %s: %w", status, err)
	}
	return nil
}

func (p *Poller) listTasks(ctx context.Context, desired types.DesiredStatus) ([]string, error) {
	pages := ecs.NewListTasksPaginator(p.Client.ECS, &ecs.ListTasksInput{
		Cluster: aws.String(p.Cluster), ContainerInstance: aws.String(p.Instance), DesiredStatus: desired,
	})
	var arns []string
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s tasks of container instance %s: %w", desired, p.Instance, err)
		}
		arns = append(arns, out.TaskArns...)
	}
	return arns, nil
}

// createTasks describes tasks the store does not hold and writes them.
func (p *Poller) createTasks(ctx context.Context, arns []string) error {
	var errs []error
	for batch := range slices.Chunk(arns, describeBatch) {
		out, err := p.Client.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(p.Cluster), Tasks: batch})
		if err != nil {
			return fmt.Errorf("describe %d new tasks: %w", len(batch), err)
		}
		for _, t := range out.Tasks {
			errs = append(errs, p.createTask(ctx, t))
		}
	}
	return errors.Join(errs...)
}

func (p *Poller) createTask(ctx context.Context, t types.Task) error {
	arn := aws.ToString(t.TaskArn)
	if aws.ToString(t.LastStatus) == string(apiv1.StatusStopped) {
		// Already over (its object was cleaned up after its stop was
		// reported); never start it again.
		return nil
	}
	if ran, err := ranHere(ctx, p.Store, arn); err != nil || ran {
		return err
	}
	def, err := p.definition(ctx, aws.ToString(t.TaskDefinitionArn))
	if err != nil {
		return err
	}
	task := &apiv1.Task{Spec: taskSpec(t, def, p.Cluster)}
	task.Name = apiv1.TaskNameFromARN(arn)
	if p.Status() == InstanceDraining && task.Spec.DefinitionError == "" {
		task.Spec.DefinitionError = ReasonDraining
	}
	if err := p.Store.Create(ctx, task); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("write task %s: %w", arn, err)
	}
	p.Log.Info("task from ECS", "task", task.Name, "family", task.Spec.Family, "revision", task.Spec.Revision,
		"error", task.Spec.DefinitionError)
	return nil
}

// definition returns the task definition, from the cache when it can. A
// definition ECS cannot find becomes nil: the task gets a definition error
// instead of blocking every poll.
func (p *Poller) definition(ctx context.Context, arn string) (*types.TaskDefinition, error) {
	p.mu.Lock()
	def, ok := p.defs[arn]
	p.mu.Unlock()
	if ok {
		return def, nil
	}
	out, err := p.Client.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
	var ce *types.ClientException
	switch {
	case errors.As(err, &ce):
		p.Log.Info("task definition cannot be described", "taskDefinition", arn, "error", err.Error())
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("describe task definition %s: %w", arn, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.defs == nil || len(p.defs) >= maxCachedDefinitions {
		p.defs = map[string]*types.TaskDefinition{}
	}
	p.defs[arn] = out.TaskDefinition
	return out.TaskDefinition, nil
}

// stopTask sets a task's desired status to STOPPED; the task reconciler
// stops it.
// ranHere reports whether this agent ran the task before and cleaned it up:
// its TaskReport is still there (a tombstone, kept when ECS refused one of
// its reports, see apiv1.TaskReportStatus.RefusedAt). Such a task is never
// started again, whatever ECS lists.
func ranHere(ctx context.Context, st store.Store, arn string) (bool, error) {
	var rep apiv1.TaskReport
	err := st.Get(ctx, apiv1.TaskNameFromARN(arn), &rep)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read report of task %s: %w", arn, err)
	}
	return true, nil
}

func stopTask(ctx context.Context, st store.Store, log logr.Logger, t *apiv1.Task, why string) error {
	_, err := store.Mutate(ctx, st, t.Name, func(t *apiv1.Task) error {
		t.Spec.DesiredStatus = apiv1.StatusStopped
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop task %s (%s): %w", t.Name, why, err)
	}
	log.Info("task to stop", "task", t.Name, "why", why)
	return nil
}
