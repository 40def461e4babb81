package controlplane

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-logr/logr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/acs"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// noSeqNum is the high-water mark before any payload or manifest, as the
// ECS agent starts it.
const noSeqNum = -1

// acsHandler does what ACS messages ask of the agent's objects: payload
// tasks become Task objects (created, or set to STOPPED), credentials go to
// the in-memory holder, manifests are checked against the store, and
// verified stops are applied. It runs on the session's reader, one message
// at a time.
type acsHandler struct {
	Store store.Store
	Creds CredentialsHolder
	// Cluster is the configured cluster (the Task objects' cluster).
	Cluster string
	// Draining tells whether the instance is DRAINING: new tasks are then
	// recorded but never started, as with polling.
	Draining func() bool
	Log      logr.Logger
}

var _ acs.Handler = (*acsHandler)(nil)

// Payload writes every task of the payload (STOPPED ones first, as the ECS
// agent applies them) and then raises the seqNum high-water mark. An error
// from any write fails the whole payload: it is not acked, ACS sends it
// again, and the writes already done are found in place then.
func (h *acsHandler) Payload(ctx context.Context, m *acs.PayloadMessage) error {
	tasks := slices.Clone(m.Tasks)
	slices.SortStableFunc(tasks, func(a, b acs.Task) int {
		return boolRank(a.DesiredStatus != string(apiv1.StatusStopped)) - boolRank(b.DesiredStatus != string(apiv1.StatusStopped))
	})
	for _, t := range tasks {
		if t.Arn == "" {
			return fmt.Errorf("payload %s: a task without arn", m.MessageID)
		}
		if err := h.applyTask(ctx, t); err != nil {
			return fmt.Errorf("payload %s: %w", m.MessageID, err)
		}
		h.keepCredentials(t.Arn, acs.RoleTypeTaskApplication, t.RoleCredentials)
		h.keepCredentials(t.Arn, acs.RoleTypeTaskExecution, t.ExecutionRoleCredentials)
	}
	if m.SeqNum != nil {
		if _, err := h.raiseMark(ctx, *m.SeqNum); err != nil {
			return fmt.Errorf("payload %s: %w", m.MessageID, err)
		}
	}
	return nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// applyTask writes one pushed task: a new RUNNING task is created, a known
// one set to STOPPED when ECS stops it. A STOPPED task the agent never held
// needs nothing; a known RUNNING one is left as it is (ECS never changes a
// placed task's definition).
func (h *acsHandler) applyTask(ctx context.Context, t acs.Task) error {
	name := apiv1.TaskNameFromARN(t.Arn)
	var have apiv1.Task
	err := h.Store.Get(ctx, name, &have)
	switch {
	case err == nil && t.DesiredStatus == string(apiv1.StatusStopped):
		return stopTask(ctx, h.Store, h.Log, &have, "stopped by ECS")
	case err == nil:
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("read task %s: %w", t.Arn, err)
	case t.DesiredStatus == string(apiv1.StatusStopped):
		return nil
	}
	if ran, err := ranHere(ctx, h.Store, t.Arn); err != nil || ran {
		return err
	}
	task := &apiv1.Task{Spec: acsTaskSpec(t, h.Cluster)}
	task.Name = name
	if h.Draining != nil && h.Draining() && task.Spec.DefinitionError == "" {
		task.Spec.DefinitionError = ReasonDraining
	}
	if err := h.Store.Create(ctx, task); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("write task %s: %w", t.Arn, err)
	}
	h.Log.Info("task from ECS (ACS)", "task", task.Name, "family", task.Spec.Family, "revision", task.Spec.Revision,
		"error", task.Spec.DefinitionError)
	return nil
}

func (h *acsHandler) keepCredentials(taskArn, roleType string, c *acs.IAMRoleCredentials) {
	if c == nil || c.CredentialsID == "" || h.Creds == nil {
		return
	}
	// ECS sends RFC 3339; credentials with an expiry the agent cannot read
	// are renewed early rather than trusted for ever.
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil {
		h.Log.Info("credentials with an unreadable expiry; treating them as expired", "task", taskArn, "role", roleType, "expiration", c.Expiration)
	}
	h.Creds.Put(taskArn, apiv1.RoleType(roleType), credentials.Credentials{
		RoleArn: c.RoleArn, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		SessionToken: c.SessionToken, Expiration: exp,
	}, apiv1.CredentialsFromACS)
}

// CredentialsHolder keeps the task role credentials ACS hands over, in
// memory only; *credentials.Holder is one.
type CredentialsHolder interface {
	Put(taskARN string, role apiv1.RoleType, c credentials.Credentials, src apiv1.CredentialsSource)
}

// Credentials keeps credentials for a task the agent holds; for any other
// task it refuses (no ack), as the ECS agent does.
func (h *acsHandler) Credentials(ctx context.Context, m *acs.IAMRoleCredentialsMessage) error {
	var t apiv1.Task
	if err := h.Store.Get(ctx, apiv1.TaskNameFromARN(m.TaskArn), &t); err != nil || t.Spec.Arn != m.TaskArn {
		return fmt.Errorf("credentials for task %s, which the agent does not hold", m.TaskArn)
	}
	h.keepCredentials(m.TaskArn, m.RoleType, m.RoleCredentials)
	return nil
}

// Manifest accepts a manifest newer than the high-water mark, raises the
// mark to it, and names as candidates the ECS tasks the agent runs that the
// manifest does not list as RUNNING. Tasks it lists that the agent does not
// hold are left to their payloads.
func (h *acsHandler) Manifest(ctx context.Context, m *acs.TaskManifestMessage) ([]acs.TaskIdentifier, bool, error) {
	if m.Timeline == nil {
		return nil, false, nil
	}
	raised, err := h.raiseMark(ctx, *m.Timeline)
	if err != nil || !raised {
		return nil, false, err
	}
	running := map[string]bool{}
	for _, t := range m.Tasks {
		if t.DesiredStatus == string(apiv1.StatusRunning) {
			running[t.TaskArn] = true
		}
	}
	var have apiv1.TaskList
	if err := h.Store.List(ctx, &have); err != nil {
		return nil, false, fmt.Errorf("list tasks in the store: %w", err)
	}
	var candidates []acs.TaskIdentifier
	for _, t := range have.Items {
		if t.Spec.Source == apiv1.SourceECS && t.Spec.DesiredStatus == apiv1.StatusRunning && !running[t.Spec.Arn] {
			candidates = append(candidates, acs.TaskIdentifier{TaskArn: t.Spec.Arn, TaskClusterArn: m.ClusterArn, DesiredStatus: string(apiv1.StatusStopped)})
		}
	}
	return candidates, true, nil
}

// StopVerified stops the tasks ECS confirmed.
func (h *acsHandler) StopVerified(ctx context.Context, m *acs.TaskStopVerificationAck) error {
	var errs []error
	for _, id := range m.StopTasks {
		var t apiv1.Task
		err := h.Store.Get(ctx, apiv1.TaskNameFromARN(id.TaskArn), &t)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("read task %s: %w", id.TaskArn, err))
			continue
		}
		errs = append(errs, stopTask(ctx, h.Store, h.Log, &t, "stopped by ECS (task manifest)"))
	}
	return errors.Join(errs...)
}

// ServerMessage logs what ACS says on closing or failing.
func (h *acsHandler) ServerMessage(_ context.Context, m any) {
	h.Log.Info("message from ACS", "type", acs.TypeName(m), "message", fmt.Sprintf("%+v", m))
}

// raiseMark raises the persisted seqNum high-water mark to v; it reports
// false (and writes nothing) when v is not above it.
func (h *acsHandler) raiseMark(ctx context.Context, v int64) (bool, error) {
	raised := false
	_, err := store.Mutate(ctx, h.Store, apiv1.ContainerInstanceName, func(ci *apiv1.ContainerInstance) error {
		raised = false
		if ci.Status.ACS == nil {
			ci.Status.ACS = &apiv1.ACSSession{}
		}
		mark := int64(noSeqNum)
		if ci.Status.ACS.SeqNum != nil {
			mark = *ci.Status.ACS.SeqNum
		}
		if v > mark {
			ci.Status.ACS.SeqNum = &v
			raised = true
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record the ACS sequence number %d: %w", v, err)
	}
	return raised, nil
}
