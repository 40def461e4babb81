package cli

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/introspection"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// credentialsColumns describe a task role's credentials without any
// secret: the keys never leave the agent's memory, and the id is shown
// cut short (the agent API serves it so).
var credentialsColumns = []metav1.TableColumnDefinition{
	{Name: "Task", Type: "string"},
	{Name: "Role", Type: "string", Description: "task or execution role"},
	{Name: "Role-ARN", Type: "string"},
	{Name: "Source", Type: "string", Description: "acs (from ECS) or sts (assumed by the agent)"},
	{Name: "Expires", Type: "string"},
	{Name: "Error", Type: "string"},
	{Name: "ID", Type: "string", Priority: 1, Description: "the credentials id, cut short"},
	{Name: "Refresh-At", Type: "string", Priority: 1},
}

func credentialsRows(obj store.Object, now time.Time) []metav1.TableRow {
	c := obj.(*apiv1.Credentials)
	return []metav1.TableRow{row(c,
		c.Spec.Task,
		roleName(c.Spec.Role),
		c.Spec.RoleArn,
		orDefault(string(c.Status.Source), "<pending>"),
		until(now, c.Status.Expiration),
		orNone(c.Status.Error),
		c.Spec.ID,
		until(now, c.Status.RefreshAt),
	)}
}

func matchCredentials(obj store.Object, name string) bool {
	c := obj.(*apiv1.Credentials)
	return c.Name == name || c.Spec.Task == name
}

func roleName(r apiv1.RoleType) string {
	if r == apiv1.RoleTypeExecution {
		return "execution"
	}
	return "task"
}

// until says how far off t is ("in 44m"), or how long ago it passed.
func until(now time.Time, t *metav1.MicroTime) string {
	switch {
	case t == nil:
		return none
	case t.Time.After(now):
		return "in " + age(t.Time, now)
	}
	return age(now, t.Time) + " ago"
}

// taskCredentials reads the Credentials of a task's roles.
func taskCredentials(ctx context.Context, src source, task *apiv1.Task) ([]apiv1.Credentials, error) {
	if task.Spec.TaskRoleArn == "" && task.Spec.ExecutionRoleArn == "" {
		return nil, nil
	}
	list, err := src.list(ctx, mustResource("credentials"), introspection.EventFilter{})
	if err != nil {
		return nil, err
	}
	var out []apiv1.Credentials
	for _, c := range list.(*apiv1.CredentialsList).Items {
		if c.Spec.Task == task.Name {
			out = append(out, c)
		}
	}
	return out, nil
}

// describeCredentials writes the task's roles and what the agent holds
// for each.
func describeCredentials(d describer, t *apiv1.Task, creds []apiv1.Credentials) {
	if t.Spec.TaskRoleArn == "" && t.Spec.ExecutionRoleArn == "" {
		return
	}
	d.line(0, "Credentials", "")
	for _, role := range []apiv1.RoleType{apiv1.RoleTypeTask, apiv1.RoleTypeExecution} {
		arn := t.Spec.TaskRoleArn
		if role == apiv1.RoleTypeExecution {
			arn = t.Spec.ExecutionRoleArn
		}
		if arn == "" {
			continue
		}
		d.line(1, roleName(role)+" role", arn)
		var c *apiv1.Credentials
		for i := range creds {
			if creds[i].Spec.Role == role {
				c = &creds[i]
			}
		}
		if c == nil {
			d.line(2, "State", "none held (not yet asked for, or dropped once the task stopped)")
			continue
		}
		d.line(2, "ID", c.Spec.ID)
		d.line(2, "Source", orDefault(string(c.Status.Source), "<pending>"))
		if c.Status.Expiration != nil {
			d.line(2, "Expires", fmt.Sprintf("%s (%s)", c.Status.Expiration.UTC().Format(time.RFC3339), until(d.now, c.Status.Expiration)))
		}
		d.time(2, "Last Refresh", c.Status.LastRefresh)
		if c.Status.RefreshAt != nil {
			d.line(2, "Refresh At", c.Status.RefreshAt.UTC().Format(time.RFC3339))
		}
		d.opt(2, "Error", c.Status.Error)
	}
}
