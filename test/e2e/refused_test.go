package e2e

import (
	"strings"
	"testing"

	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// TestRefusedTasksStopWithTheReason: a definition this agent refuses ends
// STOPPED with the reason, never running in part: from a static file, and
// from ECS, where the STOPPED report carries the reason. One refusal comes
// from reading the definition (swappiness without maxSwap), one from what
// this agent cannot do yet (a task role).
func TestRefusedTasksStopWithTheReason(t *testing.T) {
	t.Parallel()
	e := h.StartECS(t)
	a := e.StartAgent(t, h.Options{})
	swappy := h.App("app", "sleep")
	swappy.LinuxParameters = map[string]any{"swappiness": 10}
	const swappyReason = "containerDefinitions[0].linuxParameters.swappiness: 10: is applied only together with maxSwap"
	role := h.Task("role", h.App("app", "sleep"))
	role.TaskRoleArn = "arn:aws:iam::123456789012:role/app"
	const roleReason = "task roles are disabled on this instance (ECS_ENABLE_TASK_IAM_ROLE=true enables them)"

	a.WriteTask("swappy.json", h.Task("swappy", swappy).JSON())
	ecsSwappy := a.RunTask(h.Task("swappy", swappy))
	ecsRole := a.RunTask(role)

	t.Run("static", func(t *testing.T) {
		task := a.WaitTask(t, "swappy.json", startTimeout, h.IsStopped)
		if !strings.Contains(task.Status.StoppedReason, swappyReason) {
			t.Errorf("stoppedReason %q, want it to contain %q", task.Status.StoppedReason, swappyReason)
		}
		if c := task.Status.ContainerStatusFor("app"); c != nil && c.DockerID != "" {
			t.Errorf("a refused task has container %s", c.DockerID)
		}
	})
	for _, tc := range []struct{ name, arn, reason string }{
		{"ECS, refused when read", ecsSwappy, swappyReason},
		{"ECS, refused by this instance", ecsRole, roleReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.WaitECSTask(t, tc.arn, startTimeout+reportTimeout, stoppedAndReported)
			rs := e.ReportsFor(tc.arn)
			if kinds := h.ReportKinds(rs); len(kinds) != 1 || kinds[0] != "task STOPPED" {
				t.Fatalf("reports %q, want one: task STOPPED", kinds)
			}
			if !strings.Contains(rs[0].Reason, tc.reason) {
				t.Errorf("STOPPED reason %q, want it to contain %q", rs[0].Reason, tc.reason)
			}
		})
	}
}
