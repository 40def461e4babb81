package controllers

import (
	"context"
	"errors"
	"fmt"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/secrets"
)

// SecretReader reads the values of a container's secrets with the task's
// execution role; *secrets.Reader is one.
type SecretReader interface {
	Env(ctx context.Context, executionRoleArn string, s []apiv1.Secret) ([]string, error)
}

// secretEnvironment reads c's secrets into NAME=value entries for its
// environment, which is the only place their values go. stopReason says
// why the container can never start when a secret can never be read (it
// does not exist, the role may not read it); it names the secret, never a
// value, in ECS's words for the failure.
func (t *taskRun) secretEnvironment(ctx context.Context, c *apiv1.ContainerSpec) (env []string, stopReason string, err error) {
	if len(c.Secrets) == 0 {
		return nil, "", nil
	}
	if t.r.Secrets == nil {
		return nil, fmt.Sprintf("%s: container %s has secrets, and this agent reads none", apiv1.ResourceInitializationErrorName, c.Name), nil
	}
	env, err = t.r.Secrets.Env(ctx, t.task.Spec.ExecutionRoleArn, c.Secrets)
	var se *secrets.Error
	switch {
	case errors.As(err, &se) && se.Permanent:
		return nil, fmt.Sprintf("%s: unable to pull secrets or registry auth: %v", apiv1.ResourceInitializationErrorName, err), nil
	case err != nil:
		return nil, "", fmt.Errorf("read the secrets of container %s of task %s: %w", c.Name, t.task.Name, err)
	}
	return env, "", nil
}
