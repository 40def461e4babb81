package static

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/taskdef"
)

// findOrCreate returns the task for this path, content and revision: one
// made before a crash that left no record, or else a new one. A bad
// definition still makes a task, which never starts and shows why.
func (r *runner) findOrCreate(ctx context.Context, path, digest string, revision int64, data []byte, def *taskdef.Definition, perr error) (*apiv1.Task, error) {
	var tasks apiv1.TaskList
	if err := r.store.List(ctx, &tasks); err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	for i := range tasks.Items {
		t := &tasks.Items[i]
		// Desired RUNNING: a task of the same content and revision whose
		// file was removed (desired STOPPED) must not come back when the
		// file is written again; a new one does.
		if isStatic(t) && t.Annotations[AnnotationPath] == path && t.Annotations[AnnotationDigest] == digest &&
			t.Spec.Revision == revision && t.Spec.DesiredStatus == apiv1.StatusRunning {
			r.log.Info("adopting static task made before a restart", "path", path, "task", t.Name, "revision", revision)
			return t, nil
		}
	}
	task := r.newTask(path, digest, revision, data, def, perr)
	for attempt := 0; ; attempt++ {
		task.Name = newID()
		task.Spec.Arn = fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", DefaultRegion, DefaultAccount, r.cluster, task.Name)
		err := r.store.Create(ctx, task)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrAlreadyExists) || attempt == 2 {
			return nil, fmt.Errorf("create task for static task file %s: %w", path, err)
		}
	}
	if perr != nil {
		r.log.Error(perr, "static task file is invalid; its task will not start", "path", path, "task", task.Name)
	} else {
		r.log.Info("static task created", "path", path, "task", task.Name, "family", task.Spec.Family, "revision", revision)
	}
	return task, nil
}

func (r *runner) newTask(path, digest string, revision int64, data []byte, def *taskdef.Definition, perr error) *apiv1.Task {
	task := &apiv1.Task{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
		AnnotationPath:   path,
		AnnotationDigest: digest,
	}}}
	if r.src.Boot.ID != "" {
		task.Annotations[AnnotationBoot] = r.src.Boot.ID
	}
	if perr != nil {
		family := taskdef.Family(data)
		if family == "" {
			family = familyFromFile(path)
		}
		task.Spec = apiv1.TaskSpec{Family: family, DefinitionError: perr.Error()}
	} else {
		task.Spec = def.Spec
	}
	task.Spec.Revision = revision
	task.Spec.Cluster = r.cluster
	task.Spec.DesiredStatus = apiv1.StatusRunning
	task.Spec.Source = apiv1.SourceStatic
	task.Spec.SourceRef = path
	return task
}

// stopTask sets a task's desired status to STOPPED; a task already gone
// (cleaned up) needs nothing.
func (r *runner) stopTask(ctx context.Context, name string) error {
	_, err := store.Mutate(ctx, r.store, name, func(t *apiv1.Task) error {
		t.Spec.DesiredStatus = apiv1.StatusStopped
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// stopOrphans stops static tasks that should run but that no record names
// and that their file's content would not adopt: made before a crash for
// content that was changed or removed while the agent was down. (A task
// for the file's current content is kept even if that content is still
// settling: it is adopted once it has.)
func (r *runner) stopOrphans(ctx context.Context) error {
	records, err := r.records(ctx)
	if err != nil {
		return err
	}
	owned := make(map[string]bool, len(records))
	for _, rec := range records {
		owned[rec.Spec.Task] = true
	}
	var tasks apiv1.TaskList
	if err := r.store.List(ctx, &tasks); err != nil {
		return fmt.Errorf("list tasks: %w", err)
	}
	for i := range tasks.Items {
		t := &tasks.Items[i]
		if !isStatic(t) || owned[t.Name] || t.Spec.DesiredStatus != apiv1.StatusRunning || r.adoptable(t, records) {
			continue
		}
		if err := r.stopTask(ctx, t.Name); err != nil {
			return fmt.Errorf("stop task %s: %w", t.Name, err)
		}
		r.log.Info("stopped static task whose file changed or went away while the agent was down", "task", t.Name, "path", t.Annotations[AnnotationPath])
	}
	return nil
}

// adoptable says whether apply would adopt t for its file as it is now.
func (r *runner) adoptable(t *apiv1.Task, records map[string]*apiv1.StaticTaskFile) bool {
	path := t.Annotations[AnnotationPath]
	data, present, err := r.read(path)
	if err != nil || !present || digestOf(data) != t.Annotations[AnnotationDigest] {
		return false
	}
	next := int64(1)
	if rec := records[path]; rec != nil {
		next = rec.Spec.Revision + 1
	}
	return t.Spec.Revision == next
}

// isStatic says whether this source made the task.
func isStatic(t *apiv1.Task) bool {
	return t.Spec.Source == apiv1.SourceStatic && t.Annotations[AnnotationPath] != ""
}

// newID makes a task id as ECS does: 32 random lowercase hex digits.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("static: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}

var notNameChar = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// familyFromFile names a bad file's task after the file, within ECS's
// family rules, so that it can be told apart in the CLI.
func familyFromFile(path string) string {
	name := notNameChar.ReplaceAllString(strings.TrimSuffix(filepath.Base(path), ".json"), "-")
	name = strings.Trim(name, "-")
	if len(name) > 255 {
		name = name[:255]
	}
	if name == "" {
		return "static-" + strconv.Itoa(len(path))
	}
	return name
}
