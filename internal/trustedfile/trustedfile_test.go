package trustedfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func write(t *testing.T, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ecs.config")
	if err := os.WriteFile(p, []byte("ECS_CLUSTER=a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFilesOthersCanWriteAreRefusedNamingTheFix(t *testing.T) {
	for _, tc := range []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true}, {0o644, true}, {0o400, true},
		{0o664, false}, {0o646, false}, {0o666, false},
	} {
		p := write(t, tc.mode)
		_, err := ReadFile(p, 1<<20)
		if tc.ok != (err == nil) {
			t.Errorf("mode %04o: err %v, want ok=%v", tc.mode, err, tc.ok)
		}
		if !tc.ok && (!errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "chmod go-w "+p)) {
			t.Errorf("mode %04o: %v, want ErrUntrusted naming chmod go-w and the path", tc.mode, err)
		}
	}
}

func TestFileOfAnotherUserIsRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file away")
	}
	p := write(t, 0o644)
	if err := os.Chown(p, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(p, 1<<20); !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "uid 4242") {
		t.Fatalf("file of uid 4242: %v, want ErrUntrusted naming the owner", err)
	}
}

// A FIFO named like a task file would block a plain read forever.
func TestFIFOIsRefusedWithoutBlocking(t *testing.T) {
	p := filepath.Join(t.TempDir(), "task.json")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadFile(p, 1<<20); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("FIFO: %v, want ErrUntrusted: not a regular file", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO blocked for 10s")
	}
}

func TestMissingAndLargeFilesAndDirectories(t *testing.T) {
	if _, err := ReadFile(filepath.Join(t.TempDir(), "none"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := ReadFile(write(t, 0o644), 4); err == nil || !strings.Contains(err.Error(), "larger than 4 bytes") {
		t.Errorf("large file: %v", err)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(dir); !errors.Is(err, ErrUntrusted) {
		t.Errorf("world-writable directory: %v, want ErrUntrusted", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(dir); err != nil {
		t.Errorf("0755 directory: %v", err)
	}
}
