package pause

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

func TestProgramIsAStaticExecutableOfOneSegment(t *testing.T) {
	for arch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		t.Run(arch, func(t *testing.T) {
			prog, err := Program(arch)
			if err != nil {
				t.Fatal(err)
			}
			f, err := elf.NewFile(bytes.NewReader(prog))
			if err != nil {
				t.Fatalf("not an ELF file: %v", err)
			}
			if f.Class != elf.ELFCLASS64 || f.Type != elf.ET_EXEC || f.Machine != machine {
				t.Errorf("class %v type %v machine %v, want a 64-bit executable for %v", f.Class, f.Type, f.Machine, machine)
			}
			if len(f.Progs) != 1 || f.Progs[0].Type != elf.PT_LOAD || f.Progs[0].Filesz != uint64(len(prog)) {
				t.Fatalf("program headers %+v, want one loading the whole file", f.Progs)
			}
			if entry := f.Entry - f.Progs[0].Vaddr; entry != 120 || entry%4 != 0 {
				t.Errorf("entry at offset %d, want 120, just after the headers", entry)
			}
		})
	}
	if _, err := Program("s390x"); err == nil {
		t.Error("a program for s390x; want an error naming the architecture")
	}
}

// TestProgramWaitsUntilKilled runs the program for this host: it sleeps in
// the kernel (state S, not spinning), goes back to sleep after a signal it
// ignores, and ends only when killed.
func TestProgramWaitsUntilKilled(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("no pause program for %s", runtime.GOARCH)
	}
	root, err := RootFS()
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := tar.NewReader(bytes.NewReader(root)).Next()
	if err != nil || hdr.Name != "pause" || hdr.Mode != 0o755 {
		t.Fatalf("root filesystem: %+v, %v; want an executable /pause", hdr, err)
	}
	prog, _ := Program(runtime.GOARCH)
	path := filepath.Join(t.TempDir(), "pause")
	if err := os.WriteFile(path, prog, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the pause program: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	sleeping := func() (bool, string) {
		select {
		case err := <-done:
			t.Fatalf("the pause program ended by itself: %v", err)
		default:
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		if err != nil {
			return false, err.Error()
		}
		// pid (comm) state …
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		return len(fields) > 0 && fields[0] == "S", "state " + string(stat)
	}
	testwait.For(t, "the pause program asleep", 5*time.Second, 10*time.Millisecond, sleeping)
	for range 3 {
		// A signal with no handler whose default is to ignore it wakes
		// the wait; the program must go back to it.
		if err := cmd.Process.Signal(syscall.SIGWINCH); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the pause program asleep again after SIGWINCH", 5*time.Second, 10*time.Millisecond, sleeping)
	}
	_ = cmd.Process.Kill()
	select {
	case <-done:
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Errorf("ended with %v, want killed by SIGKILL", cmd.ProcessState)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the pause program outlived SIGKILL")
	}
}
