package static

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// AnnotationBoot is the host's boot id (/proc/sys/kernel/random/boot_id)
// when the source made the task: a task of another boot lost its
// containers to the reboot.
const AnnotationBoot = "static.ecs.local/boot-id"

// daemonShutdownGrace is how long before the agent lost the daemon a
// container may have been stopped by the daemon's shutdown: dockerd signals
// every container and kills it after its shutdown timeout (15 s by
// default), and the API may answer meanwhile.
const daemonShutdownGrace = 15 * time.Second

// Boot identifies the host's current boot.
type Boot struct {
	// ID is /proc/sys/kernel/random/boot_id, new at every boot.
	ID string
	// Time is when the host booted (btime in /proc/stat).
	Time time.Time
}

// Outage is a time the Docker daemon was away while the agent ran.
type Outage struct {
	Lost, Back time.Time
}

// ReadBoot reads the host's boot id and boot time from /proc.
func ReadBoot() (Boot, error) {
	id, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return Boot{}, fmt.Errorf("read the host's boot id: %w", err)
	}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return Boot{}, fmt.Errorf("read the host's boot time: %w", err)
	}
	for line := range bytes.Lines(stat) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(string(line)), "btime "); ok {
			sec, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return Boot{}, fmt.Errorf("read the host's boot time: btime %q: %w", v, err)
			}
			return Boot{ID: strings.TrimSpace(string(id)), Time: time.Unix(sec, 0)}, nil
		}
	}
	return Boot{}, errors.New("read the host's boot time: no btime in /proc/stat")
}

// lostTask says why the task a record names lost its containers to the
// host or the daemon rather than stopping on its own ("" when it did not,
// or when it is gone). Such a task is replaced by a new one from the same
// file, as the kubelet restarts a static pod after a reboot; one that
// stopped on its own stays stopped until its file changes, as ECS tasks
// never restart.
func (r *runner) lostTask(ctx context.Context, name string) (string, error) {
	var t apiv1.Task
	err := r.store.Get(ctx, name, &t)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read task %s: %w", name, err)
	}
	return r.lostTo(&t), nil
}

func (r *runner) lostTo(t *apiv1.Task) string {
	if t.Spec.DesiredStatus != apiv1.StatusRunning || t.Spec.DefinitionError != "" {
		return ""
	}
	stopping := t.Status.StoppingAt
	if boot := r.src.Boot; boot.ID != "" {
		made, ok := t.Annotations[AnnotationBoot]
		// A task made before boot ids were recorded is of an earlier boot
		// if it was made before this boot began.
		earlier := made != boot.ID && (ok || t.CreationTimestamp.Time.Before(boot.Time))
		// A reboot takes every container with it; a task that had stopped
		// before it did so on its own.
		if earlier && (stopping == nil || !stopping.Time.Before(boot.Time)) {
			return "host reboot"
		}
	}
	if r.src.DaemonOutages == nil || stopping == nil {
		return "" // still running, or not yet seen to stop
	}
	for _, o := range r.src.DaemonOutages() {
		from := o.Lost.Add(-daemonShutdownGrace)
		if !t.CreationTimestamp.Time.Before(o.Lost) || stopping.Time.Before(from) {
			continue
		}
		for _, c := range t.Status.Containers {
			if f := c.FinishedAt; f != nil && !f.Time.Before(from) && !f.Time.After(o.Back) {
				return "docker daemon restart"
			}
		}
	}
	return ""
}
