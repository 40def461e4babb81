package taskcgroup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeRoot makes a directory that looks like a cgroup mount of the given
// version; the kernel's files are plain files here.
func fakeRoot(t *testing.T, v2 bool) string {
	t.Helper()
	root := t.TempDir()
	if v2 {
		if err := os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("cpu memory pids"), 0o644); err != nil {
			t.Fatal(err)
		}
		return root
	}
	for _, ctl := range []string{"cpu", "memory", "pids"} {
		if err := os.MkdirAll(filepath.Join(root, ctl), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func read(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEnsureWritesTheTaskLimits(t *testing.T) {
	ctx := context.Background()
	t.Run("cgroup v1", func(t *testing.T) {
		root := fakeRoot(t, false)
		m := &Manager{Root: root}
		parent, err := m.Ensure(ctx, "abc", Limits{CPUUnits: 512, MemoryMiB: 256})
		if err != nil || parent != "/ecs/abc" {
			t.Fatalf("Ensure = %q, %v; want /ecs/abc", parent, err)
		}
		for file, want := range map[string]string{
			"cpu/ecs/abc/cpu.cfs_period_us":        "100000",
			"cpu/ecs/abc/cpu.cfs_quota_us":         "50000", // half a CPU
			"memory/ecs/abc/memory.limit_in_bytes": "268435456",
		} {
			if got := read(t, root, file); got != want {
				t.Errorf("%s = %q, want %q", file, got, want)
			}
		}
	})
	t.Run("cgroup v2", func(t *testing.T) {
		root := fakeRoot(t, true)
		m := &Manager{Root: root}
		if _, err := m.Ensure(ctx, "abc", Limits{CPUUnits: 2048, MemoryMiB: 1}); err != nil {
			t.Fatal(err)
		}
		for file, want := range map[string]string{
			"cgroup.subtree_control":     "+cpu +memory",
			"ecs/cgroup.subtree_control": "+cpu +memory",
			"ecs/abc/cpu.max":            "200000 100000", // two CPUs
			"ecs/abc/memory.max":         "1048576",
		} {
			if got := read(t, root, file); got != want {
				t.Errorf("%s = %q, want %q", file, got, want)
			}
		}
	})
	t.Run("only memory: no CPU quota", func(t *testing.T) {
		root := fakeRoot(t, false)
		if _, err := (&Manager{Root: root}).Ensure(ctx, "abc", Limits{MemoryMiB: 64}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "cpu/ecs/abc/cpu.cfs_quota_us")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a CPU quota was written for a task without cpu (%v)", err)
		}
	})
	t.Run("a tiny cpu gets the kernel's smallest quota", func(t *testing.T) {
		root := fakeRoot(t, false)
		if _, err := (&Manager{Root: root}).Ensure(ctx, "abc", Limits{CPUUnits: 2}); err != nil {
			t.Fatal(err)
		}
		if got := read(t, root, "cpu/ecs/abc/cpu.cfs_quota_us"); got != "1000" {
			t.Errorf("quota %q, want 1000", got)
		}
	})
}

func TestEnsureRefusesWhatCannotBeApplied(t *testing.T) {
	ctx := context.Background()
	systemd := &Manager{Root: fakeRoot(t, false), DockerDriver: func(context.Context) (string, error) { return "systemd", nil }}
	if _, err := systemd.Ensure(ctx, "abc", Limits{CPUUnits: 512}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "systemd cgroup driver") {
		t.Errorf("Ensure with the systemd driver = %v; want ErrUnsupported naming the driver", err)
	}
	noMount := &Manager{Root: filepath.Join(t.TempDir(), "missing")}
	if _, err := noMount.Ensure(ctx, "abc", Limits{CPUUnits: 512}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Ensure without a cgroup mount = %v; want ErrUnsupported", err)
	}
}

func TestRemoveRemovesTheTaskCgroupInEveryController(t *testing.T) {
	root := fakeRoot(t, false)
	m := &Manager{Root: root}
	if _, err := m.Ensure(context.Background(), "abc", Limits{}); err != nil {
		t.Fatal(err)
	}
	// Docker's runtime makes the task's cgroup in the other controllers.
	if err := os.MkdirAll(filepath.Join(root, "pids", "ecs", "abc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove("abc"); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(root, "*", "ecs", "abc")); len(left) != 0 {
		t.Errorf("left behind: %q", left)
	}
	if err := m.Remove("abc"); err != nil {
		t.Errorf("second Remove = %v, want nothing to do", err)
	}
}
