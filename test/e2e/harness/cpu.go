package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ProcessCPU is the user and system CPU time a process has used, from
// /proc/<pid>/stat (clock ticks of 10 ms on Linux); 0 when it cannot be
// read.
func ProcessCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command, which may hold spaces, follow ")".
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// DockerdPID is the Docker daemon's process id, 0 when it is not found
// (a daemon in another namespace, a remote DOCKER_HOST).
func DockerdPID() int {
	out, _ := exec.Command("pidof", "dockerd").Output()
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return 0
	}
	pid, _ := strconv.Atoi(f[0])
	return pid
}

// PID is the running agent's process id, 0 when it is not running.
func (a *Agent) PID() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proc == nil || a.proc.exited() {
		return 0
	}
	return a.proc.cmd.Process.Pid
}

// SetEnv adds environment for the agent's next starts; a name set again
// overrides its earlier value.
func (a *Agent) SetEnv(env ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opts.Env = append(append([]string(nil), a.opts.Env...), env...)
}
