// Package trustedfile reads the files that control the agent (ecs.config,
// the registry credentials file, static task files) only when nobody but
// their owner could have written them: a file others can write is a way
// for any local user to run containers, or to redirect credentials,
// through the agent. It also reads only regular files, so a FIFO or a
// device given a config name cannot block the agent forever.
package trustedfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrUntrusted is returned (wrapped) for a file or directory the agent
// refuses to trust; the message says why and how to fix it.
var ErrUntrusted = errors.New("not trusted")

// ReadFile reads a regular file of at most limit bytes that only its owner
// (root or the agent's user) can write. A missing file is fs.ErrNotExist.
func ReadFile(path string, limit int64) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	// writer; fstat then refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := Check(path, st); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

// Check says why the agent cannot trust what st describes: a file that is
// not regular, or a file or directory that group or others may write or
// that someone other than root or the agent's user owns. A directory must
// be a directory.
func Check(path string, st fs.FileInfo) error {
	mode := st.Mode()
	switch {
	case mode.IsDir():
	case !mode.IsRegular():
		return fmt.Errorf("%w: %s is not a regular file (%s)", ErrUntrusted, path, mode.Type())
	}
	if perm := mode.Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%w: %s is writable by group or others (mode %04o), so any local user could control the agent through it: run chmod go-w %s",
			ErrUntrusted, path, perm, path)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 && int(sys.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s is owned by uid %d, neither root nor the agent's user (uid %d): run chown %d %s",
			ErrUntrusted, path, sys.Uid, os.Geteuid(), os.Geteuid(), path)
	}
	return nil
}

// CheckDir stats a directory and checks it as Check does; a missing
// directory is fs.ErrNotExist.
func CheckDir(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrUntrusted, path)
	}
	return Check(path, st)
}
