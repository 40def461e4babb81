package supportbundle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// LogLines is how many of the log's last lines a bundle carries.
const LogLines = 2000

// maxLogRead bounds how much of a log file is read from its end.
const maxLogRead = 8 << 20

// FileLog returns a Sources.Log reading the last n lines of the agent's
// ECS_LOGFILE, and of the newest rotated file before it when the current
// one is younger than that.
func FileLog(path string, n int) func(context.Context) ([]byte, string, error) {
	return func(context.Context) ([]byte, string, error) {
		files := []string{path}
		if older := rotatedLogs(path); len(older) > 0 {
			files = append([]string{older[len(older)-1]}, files...)
		}
		var lines []string
		for _, f := range files {
			data, err := tail(f, maxLogRead)
			if err != nil {
				if f == path {
					return nil, "", fmt.Errorf("ECS_LOGFILE %s: %w", path, err)
				}
				continue
			}
			lines = append(lines, strings.Split(strings.TrimRight(string(data), "\n"), "\n")...)
		}
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		return []byte(strings.Join(lines, "\n") + "\n"), strings.Join(files, " and "), nil
	}
}

// rotatedLogs lists the rotated files of path (lumberjack's
// name-<time>.ext), oldest first.
func rotatedLogs(path string) []string {
	ext := filepath.Ext(path)
	prefix := strings.TrimSuffix(path, ext) + "-"
	matches, _ := filepath.Glob(prefix + "*" + ext)
	slices.Sort(matches) // the time in the name sorts as text
	return matches
}

// tail reads at most max bytes from the end of a file.
func tail(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		if _, err := f.Seek(-max, io.SeekEnd); err != nil {
			return nil, err
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	if fi.Size() > max {
		// Drop the partial first line.
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return data, nil
}

// JournalLog returns a Sources.Log asking journalctl for the unit's last n
// lines: where the log is when the agent runs under systemd without
// ECS_LOGFILE.
func JournalLog(unit string, n int) func(context.Context) ([]byte, string, error) {
	return func(ctx context.Context) ([]byte, string, error) {
		if _, err := exec.LookPath("journalctl"); err != nil {
			return nil, "", errors.New("no ECS_LOGFILE and no journalctl: the log went to the agent's stderr (docker logs, or wherever its stderr was sent)")
		}
		cmd := exec.CommandContext(ctx, "journalctl", "--unit", unit, "--lines", strconv.Itoa(n), "--no-pager", "--output", "cat")
		out, err := cmd.Output()
		if err != nil {
			return nil, "", fmt.Errorf("journalctl --unit %s: %w", unit, err)
		}
		if len(bytes.TrimSpace(out)) == 0 || bytes.HasPrefix(out, []byte("-- No entries --")) {
			return nil, "", fmt.Errorf("no ECS_LOGFILE, and the journal has no lines of %s", unit)
		}
		return out, "the journal of " + unit, nil
	}
}
