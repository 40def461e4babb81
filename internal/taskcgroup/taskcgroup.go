// Package taskcgroup holds the cgroup a task's containers share, which
// enforces the task definition's task-level cpu and memory as the ECS agent
// does with ECS_ENABLE_TASK_CPU_MEM_LIMIT: the task's containers are created
// under it (Docker's cgroup parent), so together they get no more CPU time
// and memory than the task asked for.
//
// Layout, for Docker's cgroupfs driver, under the cgroup mount (Root,
// ECS_CGROUP_PATH, /sys/fs/cgroup by default):
//
//	cgroup v1: <Root>/cpu/ecs/<task>/cpu.cfs_quota_us, cpu.cfs_period_us
//	           <Root>/memory/ecs/<task>/memory.limit_in_bytes
//	cgroup v2: <Root>/ecs/<task>/cpu.max, memory.max
//
// and the containers' cgroup parent is /ecs/<task> either way. Docker's
// systemd driver names cgroups as slices instead; it is refused with the
// reason rather than the limits silently not applied.
package taskcgroup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// CPUPeriod is the CFS period the task's CPU quota is a share of, in
// microseconds: the kernel's default, as the ECS agent uses.
const CPUPeriod = 100000

// minCPUQuota is the smallest CFS quota the kernel accepts, in
// microseconds.
const minCPUQuota = 1000

// Limits are a task's cpu and memory; zero leaves that resource unlimited.
type Limits struct {
	// CPUUnits are ECS CPU units: 1024 is one CPU.
	CPUUnits int64
	// MemoryMiB is the task's memory in MiB.
	MemoryMiB int64
}

// Manager creates and removes task cgroups.
type Manager struct {
	// Root is where the cgroup filesystem is mounted.
	Root string
	// DockerDriver asks the daemon which cgroup driver it uses
	// ("cgroupfs" or "systemd"); the answer is kept once given.
	DockerDriver func(ctx context.Context) (string, error)

	mu     sync.Mutex
	driver string
}

// ErrUnsupported says this host cannot have task cgroups made the way the
// agent makes them.
var ErrUnsupported = errors.New("task cgroups are not supported on this host")

// Parent is the cgroup parent of the task's containers, as Docker's
// cgroupfs driver takes it.
func Parent(task string) string { return "/ecs/" + task }

// Ensure creates the task's cgroup with its limits, or updates them, and
// returns the cgroup parent for the task's containers. It is safe to call
// again: on every pass that creates a container, and after a restart.
func (m *Manager) Ensure(ctx context.Context, task string, l Limits) (string, error) {
	if err := m.checkDriver(ctx); err != nil {
		return "", err
	}
	var err error
	if m.unified() {
		err = m.ensureV2(task, l)
	} else {
		err = m.ensureV1(task, l)
	}
	if err != nil {
		return "", fmt.Errorf("task cgroup %s: %w", Parent(task), err)
	}
	return Parent(task), nil
}

// Remove removes the task's cgroup once its containers are gone: in every
// controller of cgroup v1 (Docker's runtime made the ones the agent did not),
// or the one directory of cgroup v2. A cgroup already gone is no error.
func (m *Manager) Remove(task string) error {
	var dirs []string
	if m.unified() {
		dirs = []string{filepath.Join(m.Root, "ecs", task)}
	} else {
		dirs, _ = filepath.Glob(filepath.Join(m.Root, "*", "ecs", task))
	}
	var errs []error
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove task cgroup %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) checkDriver(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.driver == "" {
		if m.DockerDriver == nil {
			m.driver = "cgroupfs"
		} else {
			d, err := m.DockerDriver(ctx)
			if err != nil {
				return fmt.Errorf("ask Docker for its cgroup driver: %w", err)
			}
			m.driver = d
		}
	}
	if m.driver != "cgroupfs" {
		return fmt.Errorf("%w: the Docker daemon uses the %s cgroup driver, and the agent makes task cgroups for the cgroupfs driver (set native.cgroupdriver=cgroupfs, or ECS_ENABLE_TASK_CPU_MEM_LIMIT=false to leave task cpu and memory unenforced)", ErrUnsupported, m.driver)
	}
	return nil
}

// unified reports whether Root is a cgroup v2 mount.
func (m *Manager) unified() bool {
	_, err := os.Stat(filepath.Join(m.Root, "cgroup.controllers"))
	return err == nil
}

func (m *Manager) ensureV1(task string, l Limits) error {
	for _, ctl := range []string{"cpu", "memory"} {
		if _, err := os.Stat(filepath.Join(m.Root, ctl)); err != nil {
			return fmt.Errorf("%w: no %s controller under %s: %v", ErrUnsupported, ctl, m.Root, err)
		}
	}
	cpu := filepath.Join(m.Root, "cpu", "ecs", task)
	mem := filepath.Join(m.Root, "memory", "ecs", task)
	for _, d := range []string{cpu, mem} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if l.CPUUnits > 0 {
		if err := write(cpu, "cpu.cfs_period_us", strconv.Itoa(CPUPeriod)); err != nil {
			return err
		}
		if err := write(cpu, "cpu.cfs_quota_us", strconv.FormatInt(cpuQuota(l.CPUUnits), 10)); err != nil {
			return err
		}
	}
	if l.MemoryMiB > 0 {
		if err := write(mem, "memory.limit_in_bytes", strconv.FormatInt(l.MemoryMiB<<20, 10)); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) ensureV2(task string, l Limits) error {
	// Children get the cpu and memory controllers only when every
	// ancestor hands them down.
	ecs := filepath.Join(m.Root, "ecs")
	if err := write(m.Root, "cgroup.subtree_control", "+cpu +memory"); err != nil {
		return err
	}
	if err := os.MkdirAll(ecs, 0o755); err != nil {
		return err
	}
	if err := write(ecs, "cgroup.subtree_control", "+cpu +memory"); err != nil {
		return err
	}
	dir := filepath.Join(ecs, task)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if l.CPUUnits > 0 {
		if err := write(dir, "cpu.max", fmt.Sprintf("%d %d", cpuQuota(l.CPUUnits), CPUPeriod)); err != nil {
			return err
		}
	}
	if l.MemoryMiB > 0 {
		if err := write(dir, "memory.max", strconv.FormatInt(l.MemoryMiB<<20, 10)); err != nil {
			return err
		}
	}
	return nil
}

// cpuQuota is the CFS quota of cpu units: 1024 units are one CPU, a whole
// period of CPU time per period.
func cpuQuota(units int64) int64 {
	return max(units*CPUPeriod/1024, minCPUQuota)
}

func write(dir, file, value string) error {
	p := filepath.Join(dir, file)
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %s to %s: %w", strings.TrimSpace(value), p, err)
	}
	return nil
}
