package controllers

import (
	"context"
	"errors"
	"fmt"
	"maps"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// HeldCredentials answers whether a task's role has credentials in memory;
// *credentials.Holder is one.
type HeldCredentials interface {
	Get(k credentials.Key) (credentials.Credentials, apiv1.CredentialsSource, bool)
}

// roleRefusal is why the task's task role cannot be served on this host,
// or "". A task role needs ECS_ENABLE_TASK_IAM_ROLE (bridge, none) or
// ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST (host): ECS places such tasks only
// on instances that advertise the capability, and running one without its
// role would hand its containers the instance's role instead.
func (t *taskRun) roleRefusal() string {
	spec := &t.task.Spec
	if spec.TaskRoleArn == "" {
		return ""
	}
	if spec.NetworkMode == apiv1.NetworkModeHost {
		if !t.r.Opts.TaskIAMRoleNetworkHost {
			return fmt.Sprintf("%s: the task has a task role (%s) and uses the host network, and task roles for host-network tasks are disabled on this instance (ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true enables them)", apiv1.CannotCreateContainerErrorName, spec.TaskRoleArn)
		}
		return ""
	}
	if !t.r.Opts.TaskIAMRole {
		return fmt.Sprintf("%s: the task has a task role (%s), and task roles are disabled on this instance (ECS_ENABLE_TASK_IAM_ROLE=true enables them)", apiv1.CannotCreateContainerErrorName, spec.TaskRoleArn)
	}
	return ""
}

// roleCredentials are the credentials ids of a task's roles, once every
// role the task names has its credentials.
type roleCredentials struct {
	taskID, executionID string
}

// ensureCredentials reports whether the credentials of every role the task
// names are held, with their ids, and says why the task must stop when one
// can never be had. Until they are, no container is created: neither its
// environment (the task role's id) nor its image pull and secrets (the
// execution role) could be right. The Credentials object's writes and the
// holder's changes requeue the task.
func (t *taskRun) ensureCredentials(ctx context.Context) (ready bool, stopReason string, err error) {
	if t.creds != nil {
		return true, "", nil
	}
	var rc roleCredentials
	for _, role := range []apiv1.RoleType{apiv1.RoleTypeTask, apiv1.RoleTypeExecution} {
		arn := roleArn(t.task, role)
		if arn == "" {
			continue
		}
		var obj apiv1.Credentials
		err := t.r.Store.Get(ctx, apiv1.CredentialsName(t.task.Name, role), &obj)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return false, "", nil
		case err != nil:
			return false, "", fmt.Errorf("get credentials of task %s: %w", t.task.Name, err)
		case obj.Status.Failed:
			return false, fmt.Sprintf("%s: unable to get the credentials of %s %s: %s", apiv1.ResourceInitializationErrorName, roleWord(role), arn, obj.Status.Error), nil
		}
		if t.r.Credentials == nil {
			return false, "", nil
		}
		if _, _, held := t.r.Credentials.Get(credentials.Key{TaskARN: t.task.Spec.Arn, Role: role}); !held {
			return false, "", nil
		}
		if role == apiv1.RoleTypeTask {
			rc.taskID = obj.Spec.ID
		} else {
			rc.executionID = obj.Spec.ID
		}
	}
	t.creds = &rc
	return true, "", nil
}

// awslogsOptionCredentialsEndpoint is the awslogs log driver's option that
// names where dockerd gets the credentials it sends logs with: ECS points it
// at the execution role's credentials (agent/api/task/task.go).
const awslogsOptionCredentialsEndpoint = "awslogs-credentials-endpoint"

// awslogsCredentials gives an awslogs container the execution role's
// credentials path, as ECS does; dockerd fetches them from 169.254.170.2
// (setup-host's OUTPUT rule).
func (t *taskRun) awslogsCredentials(cfg *dockerstate.CreateConfig) {
	lc := cfg.LogConfig
	if lc == nil || lc.Driver != "awslogs" || t.creds == nil || t.creds.executionID == "" {
		return
	}
	opts := maps.Clone(lc.Options)
	if opts == nil {
		opts = map[string]string{}
	}
	opts[awslogsOptionCredentialsEndpoint] = apiv1.CredentialsRelativeURI(t.creds.executionID)
	cfg.LogConfig = &dockerstate.LogConfig{Driver: lc.Driver, Options: opts}
}
