package static

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/taskdef"
	"github.com/ecs-agent/ecs-agent/internal/trustedfile"
)

// maxFileSize bounds what is read of one file. ECS limits a task definition
// to 64 KiB; anything near this is not one.
const maxFileSize = 1 << 20

// syncAll compares every task file and every record, then stops tasks that
// no record accounts for (when one can have appeared since the last look).
func (r *runner) syncAll(ctx context.Context) {
	defer r.src.scans.Add(1)
	for p, at := range r.looked {
		if r.now().Sub(at) >= eventCoalesce {
			delete(r.looked, p) // no burst to gather any more: keep the map small
		}
	}
	files, err := r.listFiles()
	if err != nil {
		// Not knowing what is there is not the same as nothing being there:
		// stop nothing.
		r.log.Error(err, "cannot list static task files; will retry", "dir", r.dir)
		return
	}
	records, err := r.records(ctx)
	if err != nil {
		r.log.Error(err, "cannot read static task file records; will retry")
		return
	}
	paths := make([]string, 0, len(files)+len(records))
	for p := range files {
		paths = append(paths, p)
	}
	for p := range records {
		if !files[p] {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	// A reboot ends the agent, and the first full sync after it looks at
	// every task; past that, only a daemon outage can take a task's
	// containers. (A file's own event, or a retry, still looks.)
	lookForLost := !r.lostLooked || (r.src.DaemonOutages != nil && len(r.src.DaemonOutages()) > 0)
	for _, p := range paths {
		r.applyLogged(ctx, p, records[p], lookForLost)
	}
	r.lostLooked = true
	if r.swept && !r.changed {
		return
	}
	r.changed = false
	if err := r.stopOrphans(ctx); err != nil {
		r.swept = false
		r.log.Error(err, "cannot stop static tasks left without a file; will retry")
		return
	}
	r.swept = true
}

// syncPath compares one file with its record.
func (r *runner) syncPath(ctx context.Context, path string) {
	var rec apiv1.StaticTaskFile
	err := r.store.Get(ctx, recordName(path), &rec)
	switch {
	case errors.Is(err, store.ErrNotFound):
		r.applyLogged(ctx, path, nil, true)
	case err != nil:
		r.log.Error(err, "cannot read static task file record; will retry", "path", path)
		r.schedule(path, retryDelay)
	default:
		r.applyLogged(ctx, path, &rec, true)
	}
}

func (r *runner) applyLogged(ctx context.Context, path string, rec *apiv1.StaticTaskFile, lookForLost bool) {
	if err := r.apply(ctx, path, rec, lookForLost); err != nil {
		r.changed = true // it may have stopped half-way: sweep for orphans
		r.log.Error(err, "cannot apply static task file; will retry", "path", path)
		r.schedule(path, retryDelay)
	}
}

// apply brings one path's task in line with the file's content. rec is the
// path's record, nil when there is none.
// lookForLost says whether to look whether the task of unchanged content
// lost its containers to a reboot or a daemon outage.
func (r *runner) apply(ctx context.Context, path string, rec *apiv1.StaticTaskFile, lookForLost bool) error {
	data, present, err := r.read(path)
	if err != nil {
		return err
	}
	if !present {
		delete(r.seen, path)
		if rec == nil {
			return nil
		}
		r.changed = true
		return r.removed(ctx, rec)
	}
	digest := digestOf(data)
	if rec != nil && rec.Spec.Digest == digest {
		delete(r.seen, path)
		if !lookForLost {
			return nil
		}
		lost, err := r.lostTask(ctx, rec.Spec.Task)
		if err != nil || lost == "" {
			return err
		}
		r.log.Info("static task lost its containers to a "+lost+"; replacing it from its file", "path", path, "task", rec.Spec.Task)
	}
	def, perr := parse(path, data)
	if perr != nil && !r.settled(path, digest) {
		// Maybe a writer has not finished: look again before letting this
		// content replace anything.
		r.schedule(path, r.settle)
		return nil
	}
	delete(r.seen, path)
	r.changed = true
	revision := int64(1)
	if rec != nil {
		revision = rec.Spec.Revision + 1
	}
	task, err := r.findOrCreate(ctx, path, digest, revision, data, def, perr)
	if err != nil {
		return err
	}
	if rec != nil && rec.Spec.Task != task.Name {
		if err := r.stopTask(ctx, rec.Spec.Task); err != nil {
			return fmt.Errorf("stop task %s of the previous content of %s: %w", rec.Spec.Task, path, err)
		}
		r.log.Info("static task file changed; stopped its previous task", "path", path, "task", rec.Spec.Task, "revision", rec.Spec.Revision)
	}
	return r.writeRecord(ctx, path, rec, apiv1.StaticTaskFileSpec{Path: path, Digest: digest, Task: task.Name, Revision: task.Spec.Revision})
}

func parse(path string, data []byte) (*taskdef.Definition, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("invalid task definition %s: the file is larger than %d bytes; ECS task definitions are at most 64 KiB", path, maxFileSize)
	}
	return taskdef.Parse(path, data)
}

// settled says whether unparseable content has stayed the same for the
// settle time, noting it as first seen now if it is new.
func (r *runner) settled(path, digest string) bool {
	o, ok := r.seen[path]
	if !ok || o.digest != digest {
		r.seen[path] = observation{digest: digest, since: r.now()}
		return false
	}
	return r.now().Sub(o.since) >= r.settle
}

// removed stops the task of a file that is gone and forgets the file.
func (r *runner) removed(ctx context.Context, rec *apiv1.StaticTaskFile) error {
	if err := r.stopTask(ctx, rec.Spec.Task); err != nil {
		return fmt.Errorf("stop task %s of removed file %s: %w", rec.Spec.Task, rec.Spec.Path, err)
	}
	if err := r.store.Delete(ctx, rec); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete record of removed file %s: %w", rec.Spec.Path, err)
	}
	r.log.Info("static task file removed; stopped its task", "path", rec.Spec.Path, "task", rec.Spec.Task)
	return nil
}

// read returns a task file's content; present is false when there is no
// such task file (gone, a directory, or outside the directory, as a record
// left from another ECS_STATIC_TASKS_DIR is). A file, or a directory, that
// others could have written is an error, not an absence: the task it made
// keeps running, and nothing new is started from it.
func (r *runner) read(path string) (data []byte, present bool, err error) {
	if filepath.Dir(path) != r.dir || !isTaskFile(filepath.Base(path)) {
		return nil, false, nil
	}
	if err := trustedfile.CheckDir(r.dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("static task directory: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, false, nil
	}
	data, err = trustedfile.ReadFile(path, maxFileSize+1) // parse refuses a larger one by name
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read static task file: %w", err)
	}
	return data, true, nil
}

// listFiles returns the task files in the directory; a missing directory
// has none.
func (r *runner) listFiles() (map[string]bool, error) {
	entries, err := os.ReadDir(r.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", r.dir, err)
	}
	files := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !isTaskFile(e.Name()) {
			continue
		}
		p := filepath.Join(r.dir, e.Name())
		// Follow symlinks: a link to a file is a task file, to a directory
		// is not.
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			files[p] = true
		}
	}
	return files, nil
}

func (r *runner) records(ctx context.Context) (map[string]*apiv1.StaticTaskFile, error) {
	var list apiv1.StaticTaskFileList
	if err := r.store.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list static task file records: %w", err)
	}
	m := make(map[string]*apiv1.StaticTaskFile, len(list.Items))
	for i := range list.Items {
		m[list.Items[i].Spec.Path] = &list.Items[i]
	}
	return m, nil
}

func (r *runner) writeRecord(ctx context.Context, path string, rec *apiv1.StaticTaskFile, spec apiv1.StaticTaskFileSpec) error {
	if rec == nil {
		rec = &apiv1.StaticTaskFile{}
		rec.Name = recordName(path)
		rec.Spec = spec
		if err := r.store.Create(ctx, rec); err != nil {
			return fmt.Errorf("record static task file %s: %w", path, err)
		}
		return nil
	}
	rec.Spec = spec
	if err := r.store.Update(ctx, rec); err != nil {
		return fmt.Errorf("update record of static task file %s: %w", path, err)
	}
	return nil
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// recordName derives a record's name from its file path: a hash, since
// paths hold characters object names should not.
func recordName(path string) string {
	sum := sha256.Sum256([]byte(path))
	return hex.EncodeToString(sum[:16])
}
