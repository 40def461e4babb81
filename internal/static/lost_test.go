package static

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// stopped records in a task's status what the tasks reconciler writes when
// its essential container exits: the container finished at finished, the
// task began stopping at stopping.
func stopped(t *testing.T, st store.Store, name string, finished, stopping time.Time) {
	t.Helper()
	var task apiv1.Task
	if err := st.Get(context.Background(), name, &task); err != nil {
		t.Fatal(err)
	}
	code := int32(143)
	task.Status.KnownStatus = apiv1.StatusStopped
	task.Status.StoppingReason = apiv1.ReasonEssentialContainerExited
	task.Status.StoppingAt = &metav1.MicroTime{Time: stopping}
	task.Status.Containers = []apiv1.ContainerStatus{{Name: "app", KnownStatus: apiv1.StatusStopped, ExitCode: &code,
		FinishedAt: &metav1.MicroTime{Time: finished}}}
	if err := st.UpdateStatus(context.Background(), &task); err != nil {
		t.Fatalf("write status of task %s: %v", name, err)
	}
}

// TestTaskLostToARebootIsReplacedFromItsFile: after a reboot (a new boot
// id), a static task that was running is replaced by the next revision of
// its file, as the kubelet restarts static pods; one that had stopped on
// its own before the reboot stays stopped.
func TestTaskLostToARebootIsReplacedFromItsFile(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	runningPath, exitedPath := filepath.Join(dir, "web.json"), filepath.Join(dir, "job.json")
	writeFile(t, runningPath, definition("web", "1"))
	writeFile(t, exitedPath, definition("job", "1"))
	before := Boot{ID: "boot-before", Time: time.Now().Add(-time.Hour)}
	r := startSourceWith(t, dir, st, time.Hour, func(s *Source) { s.Boot = before })
	web, job := tasksOf(t, st, runningPath)[1], tasksOf(t, st, exitedPath)[1]
	if web.Annotations[AnnotationBoot] != before.ID {
		t.Fatalf("task annotations %v; want the boot id %s", web.Annotations, before.ID)
	}
	stopped(t, st, job.Name, time.Now().Add(-2*time.Second), time.Now().Add(-time.Second))
	r.stop()

	after := Boot{ID: "boot-after", Time: time.Now()}
	startSourceWith(t, dir, st, time.Hour, func(s *Source) { s.Boot = after })

	replaced := tasksOf(t, st, runningPath)
	if len(replaced) != 2 || replaced[2].Spec.DesiredStatus != apiv1.StatusRunning || replaced[2].Annotations[AnnotationBoot] != after.ID {
		t.Fatalf("tasks of the running file after the reboot: %v; want revision 2 desired RUNNING, made in %s", replaced, after.ID)
	}
	if got := taskDesired(t, st, web.Name); got != apiv1.StatusStopped {
		t.Errorf("the lost task is desired %s; want STOPPED", got)
	}
	if rec, _ := getRecord(t, st, runningPath); rec == nil || rec.Spec.Task != replaced[2].Name {
		t.Errorf("record %+v; want it to name the replacement %s", rec, replaced[2].Name)
	}
	if got := tasksOf(t, st, exitedPath); len(got) != 1 {
		t.Errorf("the file whose task exited before the reboot has %d tasks; want its one, stopped", len(got))
	}
}

// TestTaskLostToADaemonRestartIsReplacedButOneThatExitedIsNot: a task whose
// container finished while the daemon was away is replaced from its file;
// one whose container exited after the daemon was back stays stopped.
func TestTaskLostToADaemonRestartIsReplacedButOneThatExitedIsNot(t *testing.T) {
	dir, st := t.TempDir(), openStore(t)
	lostPath, exitedPath := filepath.Join(dir, "lost.json"), filepath.Join(dir, "exited.json")
	writeFile(t, lostPath, definition("lost", "1"))
	writeFile(t, exitedPath, definition("exited", "1"))
	outages := make(chan []Outage, 1)
	outages <- nil
	current := func() []Outage { o := <-outages; outages <- o; return o }
	r := startSourceWith(t, dir, st, 50*time.Millisecond, func(s *Source) { s.DaemonOutages = current })
	lost, exited := tasksOf(t, st, lostPath)[1], tasksOf(t, st, exitedPath)[1]
	// Creation timestamps have whole seconds: the outage comes after them.
	lostAt := time.Now().Add(time.Second)
	out := Outage{Lost: lostAt, Back: lostAt.Add(2 * time.Second)}

	stopped(t, st, lost.Name, out.Lost.Add(time.Second), out.Back.Add(100*time.Millisecond))
	stopped(t, st, exited.Name, out.Back.Add(time.Minute), out.Back.Add(time.Minute))
	r.waitScans(t, 2)
	if len(tasksOf(t, st, lostPath)) != 1 {
		t.Fatal("a task was replaced before the daemon's outage was known")
	}
	<-outages
	outages <- []Outage{out}

	eventually(t, "the lost task replaced", func() bool { return len(tasksOf(t, st, lostPath)) == 2 })
	r.waitScans(t, 2)
	if got := tasksOf(t, st, lostPath); len(got) != 2 || got[2].Spec.DesiredStatus != apiv1.StatusRunning {
		t.Errorf("tasks of the lost file: %v; want revision 2 desired RUNNING and no more", got)
	}
	if got := tasksOf(t, st, exitedPath); len(got) != 1 {
		t.Errorf("the task that exited on its own after the outage has %d tasks; want its one, stopped", len(got))
	}
}
