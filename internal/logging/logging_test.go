package logging

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/internal/testwait"
)

// logAtEveryLevel logs one line per level, each message naming its level.
func logAtEveryLevel(t *testing.T, opts Options) {
	t.Helper()
	log, closeLog, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	log.V(1).Info("msg-debug")
	log.Info("msg-info")
	Warn(log, "msg-warn")
	log.Error(errors.New("boom"), "msg-error")
	Crit(log, errors.New("boom"), "msg-crit")
	closeLog()
}

func TestLevelsAreTheECSAgentsOnStderrAndInTheFile(t *testing.T) {
	for _, tc := range []struct {
		level, fileLevel string
		stderr, file     []string
	}{
		{level: "debug", stderr: []string{"debug", "info", "warn", "error", "crit"}, file: []string{"debug", "info", "warn", "error", "crit"}},
		{level: "info", stderr: []string{"info", "warn", "error", "crit"}, file: []string{"info", "warn", "error", "crit"}},
		{level: "warn", stderr: []string{"warn", "error", "crit"}, file: []string{"warn", "error", "crit"}},
		{level: "error", stderr: []string{"error", "crit"}, file: []string{"error", "crit"}},
		{level: "crit", stderr: []string{"crit"}, file: []string{"crit"}},
		// ECS_LOGLEVEL_ON_INSTANCE sets the file's level apart.
		{level: "warn", fileLevel: "debug", stderr: []string{"warn", "error", "crit"}, file: []string{"debug", "info", "warn", "error", "crit"}},
	} {
		t.Run(tc.level+"/"+tc.fileLevel, func(t *testing.T) {
			var stderr bytes.Buffer
			file := filepath.Join(t.TempDir(), "log", "ecs-agent.log")
			logAtEveryLevel(t, Options{Level: tc.level, FileLevel: tc.fileLevel, File: file, Stderr: &stderr})
			written, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for where, got := range map[string]string{"stderr": stderr.String(), "file": string(written)} {
				want := tc.stderr
				if where == "file" {
					want = tc.file
				}
				if levels := levelsIn(got); strings.Join(levels, " ") != strings.Join(want, " ") {
					t.Errorf("%s has the levels %v, want %v:\n%s", where, levels, want, got)
				}
			}
		})
	}
}

// levelsIn returns the "level" of each JSON line, checking that the
// message is the level's.
func levelsIn(log string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		if l == "" {
			continue
		}
		_, rest, _ := strings.Cut(l, `"level":"`)
		level, _, _ := strings.Cut(rest, `"`)
		if !strings.Contains(l, `"msg":"msg-`+level+`"`) {
			level += "(wrong message)"
		}
		if !strings.Contains(l, `"caller":"logging/logging_test.go:`) {
			level += "(caller not the test)"
		}
		out = append(out, level)
	}
	return out
}

func TestJournalLinesCarryTheirSyslogPriority(t *testing.T) {
	var stderr bytes.Buffer
	file := filepath.Join(t.TempDir(), "ecs-agent.log")
	logAtEveryLevel(t, Options{Level: "debug", File: file, Stderr: &stderr, Journal: true})
	var prefixes []string
	for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		p, rest, _ := strings.Cut(l, "{")
		if !strings.HasPrefix(rest, `"level"`) {
			t.Errorf("journal line is not <N> then JSON: %q", l)
		}
		prefixes = append(prefixes, p)
	}
	if got := strings.Join(prefixes, " "); got != "<7> <6> <4> <3> <2>" {
		t.Errorf("priorities of debug, info, warn, error, crit = %s, want <7> <6> <4> <3> <2>", got)
	}
	written, _ := os.ReadFile(file)
	if strings.Contains(string(written), "<") {
		t.Errorf("the file has priority prefixes too:\n%s", written)
	}
}

func TestFileRotatesBySizeAndKeepsRollCountFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ecs-agent.log")
	log, closeLog, err := New(Options{Level: "info", File: file, Rollover: RolloverSize, MaxSizeMB: 1, MaxBackups: 2, Stderr: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeLog()
	line := strings.Repeat("x", 1000)
	for i := range 4500 { // about 4.6 MB: four rotations
		log.Info("filler", "i", i, "pad", line)
	}
	// lumberjack prunes old files on a goroutine of its own.
	testwait.For(t, "two rotated files beside the log", 5*time.Second, 10*time.Millisecond, func() (bool, string) {
		backups := rotated(t, dir)
		return len(backups) == 2, strings.Join(backups, ", ")
	})
	for _, name := range append(rotated(t, dir), "ecs-agent.log") {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1<<20 {
			t.Errorf("%s is %d bytes, more than ECS_LOG_MAX_FILE_SIZE_MB=1", name, fi.Size())
		}
	}
}

func TestFileRotatesHourly(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ecs-agent.log")
	// The hour is shortened; the rotation is the same timer.
	log, closeLog, err := New(Options{Level: "info", File: file, Rollover: RolloverHourly, MaxBackups: 24, Stderr: &bytes.Buffer{}, rotateEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer closeLog()
	log.Info("first hour")
	testwait.For(t, "a rotated file holding the first hour", 5*time.Second, 10*time.Millisecond, func() (bool, string) {
		for _, name := range rotated(t, dir) {
			if b, _ := os.ReadFile(filepath.Join(dir, name)); strings.Contains(string(b), "first hour") {
				return true, ""
			}
		}
		return false, strings.Join(rotated(t, dir), ", ")
	})
	log.Info("next hour")
	if b, _ := os.ReadFile(file); !strings.Contains(string(b), "next hour") || strings.Contains(string(b), "first hour") {
		t.Errorf("%s after the rotation holds:\n%s\nwant only the next hour's line", file, b)
	}
}

func TestUnwritableLogFileStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "not-a-dir"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "not-a-dir", "ecs-agent.log")
	if _, _, err := New(Options{File: file}); err == nil || !strings.Contains(err.Error(), "ECS_LOGFILE") {
		t.Fatalf("New with ECS_LOGFILE under a file = %v, want an error naming ECS_LOGFILE", err)
	}
}

// rotated lists the rotated log files in dir.
func rotated(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if name := e.Name(); name != "ecs-agent.log" && strings.HasPrefix(name, "ecs-agent-") {
			out = append(out, name)
		}
	}
	return out
}
