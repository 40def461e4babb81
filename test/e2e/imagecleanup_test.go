package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// cleanupImage is the n-th image of the cleanup test: the test image plus a
// label, so each has its own id and removing it leaves the test image alone.
func cleanupImage(n int) string { return fmt.Sprintf("ecs-agent-test/cleanup-%d:e2e", n) }

func buildCleanupImages(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		ref := cleanupImage(i)
		cmd := exec.Command("docker", "build", "-q", "-t", ref, "-")
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
		cmd.Stdin = strings.NewReader(fmt.Sprintf("FROM %s\nLABEL ecs-agent-test.cleanup=%d ecs-agent-test.pid=%d\n", h.TestImage, i, os.Getpid()))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker build %s: %v: %s", ref, err, out)
		}
		t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
	}
}

func imagePresent(ref string) bool {
	return exec.Command("docker", "image", "inspect", ref).Run() == nil
}

// useImage runs a task of ref that exits at once and waits until the agent
// has removed it: afterwards ref is tracked, last used now, and used by no
// container.
func useImage(t *testing.T, a *h.Agent, file, ref string) {
	t.Helper()
	c := h.App("app", "exit", "0")
	c.Image = ref
	a.WriteTask(file, h.Task(strings.TrimSuffix(file, ".json"), c).JSON())
	a.WaitTask(t, file, startTimeout, h.IsStopped)
	a.RemoveTask(file)
	a.WaitFor(t, "containers of "+file+" removed", 30*time.Second, func() (bool, string) {
		tasks, err := a.Tasks()
		if err != nil {
			return false, err.Error()
		}
		left := h.TasksOf(tasks, file)
		return len(left) == 0, fmt.Sprintf("%d tasks left", len(left))
	})
}

func TestImageCleanupRemovesLeastRecentlyUsedAndNeverAnImageInUse(t *testing.T) {
	t.Parallel()
	const (
		excluded = 5
		running  = 6
	)
	buildCleanupImages(t, 7)
	// First the agent only learns the images, with cleanup off: images 0–4
	// last used in the order 3, 1, 4, 0, 2; 5 is excluded; 6 stays in use.
	// The cleanup settings come from a config file the test rewrites
	// between the two runs of the agent.
	cfgFile := t.TempDir() + "/ecs.config"
	writeConfig := func(lines ...string) {
		if err := os.WriteFile(cfgFile, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig("ECS_DISABLE_IMAGE_CLEANUP=true")
	a := h.Start(t, h.Options{CleanupWait: time.Second, Env: []string{"ECS_CONFIG_FILE=" + cfgFile}})
	for _, i := range []int{3, 1, 4, 0, 2, excluded} {
		useImage(t, a, fmt.Sprintf("use-%d.json", i), cleanupImage(i))
	}
	sleeper := h.App("app", "sleep")
	sleeper.Image = cleanupImage(running)
	a.WriteTask("running.json", h.Task("running", sleeper).JSON())
	a.WaitTask(t, "running.json", startTimeout, h.IsRunning)
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}

	// Then cleanup every second, two images a cycle, any image older than
	// a second.
	writeConfig("ECS_IMAGE_CLEANUP_INTERVAL=1s", "ECS_IMAGE_MINIMUM_CLEANUP_AGE=1s", "ECS_NUM_IMAGES_DELETE_PER_CYCLE=2",
		"ECS_EXCLUDE_UNTRACKED_IMAGE="+cleanupImage(excluded))
	a.Start()
	a.WaitFor(t, "the first cleanup cycle", 20*time.Second, func() (bool, string) {
		return len(a.LogLines("image cleanup cycle")) > 0, "no cycle logged"
	})
	// Image 2 is a candidate now (the last in LRU order): a task that
	// starts with it must run, with that very image.
	late := h.App("app", "sleep")
	late.Image = cleanupImage(2)
	a.WriteTask("late.json", h.Task("late", late).JSON())
	a.WaitTask(t, "late.json", startTimeout, h.IsRunning)

	a.WaitFor(t, "images 3, 1, 4, 0 removed", 20*time.Second, func() (bool, string) {
		var left []string
		for _, i := range []int{3, 1, 4, 0} {
			if imagePresent(cleanupImage(i)) {
				left = append(left, cleanupImage(i))
			}
		}
		return len(left) == 0, fmt.Sprintf("still present: %v", left)
	})
	// Two cycles that remove nothing: the rest stays.
	idle := len(a.LogLines("image cleanup: nothing removed"))
	a.WaitFor(t, "two idle cleanup cycles", 20*time.Second, func() (bool, string) {
		n := len(a.LogLines("image cleanup: nothing removed"))
		return n >= idle+2, fmt.Sprintf("%d idle cycles", n-idle)
	})
	for _, i := range []int{2, excluded, running} {
		if !imagePresent(cleanupImage(i)) {
			t.Errorf("%s was removed", cleanupImage(i))
		}
	}
	var order []string
	for _, line := range a.LogLines("image cleanup cycle") {
		var removed []string
		for pos := 0; ; {
			i := strings.Index(line[pos:], "ecs-agent-test/cleanup-")
			if i < 0 {
				break
			}
			removed = append(removed, line[pos+i:pos+i+len(cleanupImage(0))])
			pos += i + 1
		}
		if len(removed) > 2 {
			t.Errorf("one cycle removed %v, more than ECS_NUM_IMAGES_DELETE_PER_CYCLE=2", removed)
		}
		order = append(order, removed...)
	}
	t.Logf("removed, cycle by cycle: %v", order)
	want := []string{cleanupImage(3), cleanupImage(1), cleanupImage(4), cleanupImage(0)}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("removal order %v, want least recently used first %v", order, want)
	}
	for _, file := range []string{"late.json", "running.json"} {
		if task := a.WaitTask(t, file, time.Second, h.IsRunning); task.Status.KnownStatus != apiv1.StatusRunning {
			t.Errorf("%s is %s", file, task.Status.KnownStatus)
		}
	}
}
