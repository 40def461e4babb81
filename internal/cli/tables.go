package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// none is what an empty cell shows, as kubectl does.
const none = "<none>"

// Priority 1 columns show with -o wide only.
var (
	taskColumns = []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Description: "task id"},
		{Name: "Family:Rev", Type: "string"},
		{Name: "Desired", Type: "string"},
		{Name: "Known", Type: "string"},
		{Name: "Containers", Type: "string", Description: "ready/total"},
		{Name: "Ports", Type: "string", Description: "hostPort->containerPort/protocol"},
		{Name: "Age", Type: "string"},
		{Name: "ARN", Type: "string", Priority: 1},
		{Name: "Stopped-Reason", Type: "string", Priority: 1},
		{Name: "Source", Type: "string", Priority: 1},
	}
	containerColumns = []metav1.TableColumnDefinition{
		{Name: "Task", Type: "string"},
		{Name: "Name", Type: "string"},
		{Name: "Docker-ID", Type: "string"},
		{Name: "Image", Type: "string"},
		{Name: "Status", Type: "string"},
		{Name: "Exit", Type: "string"},
		{Name: "Health", Type: "string"},
		{Name: "Ports", Type: "string"},
		{Name: "Reason", Type: "string", Priority: 1},
		{Name: "Restarts", Type: "integer", Priority: 1},
	}
	imageColumns = []metav1.TableColumnDefinition{
		{Name: "Ref", Type: "string"},
		{Name: "Phase", Type: "string"},
		{Name: "Size", Type: "string"},
		{Name: "Pull", Type: "string", Description: "bytes pulled of the known total while a pull runs, else when the agent last pulled it"},
		{Name: "Last-Used", Type: "string"},
		{Name: "Users", Type: "string", Description: "tasks using the image"},
		{Name: "ID", Type: "string", Priority: 1},
		{Name: "Last-Pull-Error", Type: "string", Priority: 1},
	}
	portColumns = []metav1.TableColumnDefinition{
		{Name: "Port/Proto", Type: "string"},
		{Name: "Task", Type: "string"},
		{Name: "Container", Type: "string"},
		{Name: "Container-Port", Type: "integer"},
		{Name: "Dynamic", Type: "boolean"},
	}
	eventColumns = []metav1.TableColumnDefinition{
		{Name: "Last-Seen", Type: "string"},
		{Name: "Type", Type: "string"},
		{Name: "Reason", Type: "string"},
		{Name: "Object", Type: "string"},
		{Name: "Message", Type: "string"},
	}
)

func row(obj runtime.Object, cells ...any) metav1.TableRow {
	return metav1.TableRow{Cells: cells, Object: runtime.RawExtension{Object: obj}}
}

func taskRows(obj store.Object, now time.Time) []metav1.TableRow {
	t := obj.(*apiv1.Task)
	return []metav1.TableRow{row(t,
		t.Name,
		fmt.Sprintf("%s:%d", t.Spec.Family, t.Spec.Revision),
		orNone(string(t.Spec.DesiredStatus)),
		knownStatus(t.Status.KnownStatus),
		fmt.Sprintf("%d/%d", readyContainers(t), len(t.Spec.Containers)),
		taskPorts(t),
		age(now, t.CreationTimestamp.Time),
		orNone(t.Spec.Arn),
		orNone(stoppedReason(t)),
		orNone(sourceOf(t)),
	)}
}

func containerRows(obj store.Object, _ time.Time) []metav1.TableRow {
	t := obj.(*apiv1.Task)
	rows := make([]metav1.TableRow, 0, len(t.Spec.Containers))
	for i := range t.Spec.Containers {
		spec := &t.Spec.Containers[i]
		cs := t.Status.ContainerStatusFor(spec.Name)
		if cs == nil {
			cs = &apiv1.ContainerStatus{Name: spec.Name}
		}
		rows = append(rows, row(t,
			t.Name,
			spec.Name,
			orNone(shortID(cs.DockerID)),
			spec.Image,
			knownStatus(cs.KnownStatus),
			exitCode(cs.ExitCode),
			health(cs.Health),
			orNone(portList(cs.Ports)),
			orNone(cs.Reason),
			int64(cs.RestartCount),
		))
	}
	return rows
}

func imageRows(obj store.Object, now time.Time) []metav1.TableRow {
	img := obj.(*apiv1.Image)
	return []metav1.TableRow{row(img,
		img.Spec.Ref,
		orNone(img.Status.Phase),
		size(img.Status.Size),
		pullState(img, now),
		ago(now, img.Status.LastUsedAt),
		users(img.Status.Users),
		orNone(shortID(img.Status.ImageID)),
		orNone(img.Status.LastPullError),
	)}
}

// pullState is the pull in flight ("12.1MB/50MB 3s"), else when this agent
// last pulled the image.
func pullState(img *apiv1.Image, now time.Time) string {
	if p := img.Status.Progress; p != nil {
		return fmt.Sprintf("%s/%s %s", sizeOrZero(p.Done), sizeOrZero(p.Total), age(now, p.StartedAt.Time))
	}
	if img.Status.PulledAt == nil {
		return "<never>"
	}
	return ago(now, img.Status.PulledAt)
}

func sizeOrZero(b int64) string {
	if b <= 0 {
		return "0B"
	}
	return size(b)
}

// users lists the tasks using an image, the first two by name.
func users(names []string) string {
	switch {
	case len(names) == 0:
		return none
	case len(names) <= 2:
		return strings.Join(names, ",")
	}
	return fmt.Sprintf("%s +%d", strings.Join(names[:2], ","), len(names)-2)
}

func portRows(obj store.Object, _ time.Time) []metav1.TableRow {
	p := obj.(*apiv1.PortAllocation)
	return []metav1.TableRow{row(p,
		fmt.Sprintf("%d/%s", p.Spec.HostPort, protocol(p.Spec.Protocol)),
		p.Spec.Task,
		p.Spec.Container,
		int64(p.Spec.ContainerPort),
		p.Spec.Dynamic,
	)}
}

func eventRows(obj store.Object, now time.Time) []metav1.TableRow {
	ev := obj.(*apiv1.Event)
	return []metav1.TableRow{row(ev,
		age(now, ev.LastTimestamp.Time),
		ev.Type,
		ev.Reason,
		ev.InvolvedKind+"/"+ev.InvolvedName,
		ev.Message,
	)}
}

// readyContainers counts running containers that are not known to be
// unhealthy (a container with a health check is ready once it is healthy).
func readyContainers(t *apiv1.Task) int {
	n := 0
	for _, c := range t.Status.Containers {
		if c.KnownStatus != apiv1.StatusRunning {
			continue
		}
		spec := t.Spec.ContainerSpecFor(c.Name)
		if spec != nil && spec.HealthCheck != nil && (c.Health == nil || c.Health.Status != apiv1.HealthHealthy) {
			continue
		}
		n++
	}
	return n
}

func taskPorts(t *apiv1.Task) string {
	var all []string
	for _, c := range t.Status.Containers {
		if p := portList(c.Ports); p != "" {
			all = append(all, p)
		}
	}
	return orNone(strings.Join(all, ","))
}

// portList shows bindings as docker ps does: 32768->80/tcp. Docker binds a
// port on 0.0.0.0 and on :: alike; the table shows such a pair once.
func portList(ports []apiv1.PortBinding) string {
	parts := make([]string, 0, len(ports))
	for _, p := range ports {
		s := fmt.Sprintf("%d->%d/%s", p.HostPort, p.ContainerPort, protocol(p.Protocol))
		if !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ",")
}

func protocol(p string) string {
	if p == "" {
		return "tcp"
	}
	return p
}

func knownStatus(s apiv1.TaskStatusName) string {
	if s == "" {
		return string(apiv1.StatusNone)
	}
	return string(s)
}

func stoppedReason(t *apiv1.Task) string {
	switch {
	case t.Status.StoppedReason != "":
		return t.Status.StoppedReason
	case t.Status.StoppingReason != "":
		return t.Status.StoppingReason
	}
	return t.Spec.DefinitionError
}

func sourceOf(t *apiv1.Task) string {
	if t.Spec.SourceRef != "" {
		return string(t.Spec.Source) + ":" + t.Spec.SourceRef
	}
	return string(t.Spec.Source)
}

func exitCode(code *int32) string {
	if code == nil {
		return none
	}
	return strconv.Itoa(int(*code))
}

func health(h *apiv1.HealthStatus) string {
	if h == nil || h.Status == "" {
		return none
	}
	return h.Status
}

// shortID is the 12-character id docker ps shows, without "sha256:".
func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

func age(now, t time.Time) string {
	if t.IsZero() {
		return none
	}
	return duration.HumanDuration(now.Sub(t))
}

// ago is how long ago t was, "<never>" for nil.
func ago(now time.Time, t *metav1.MicroTime) string {
	if t == nil {
		return "<never>"
	}
	return age(now, t.Time) + " ago"
}

// size formats bytes as docker images does (decimal units).
func size(b int64) string {
	if b <= 0 {
		return none
	}
	units := []string{"B", "kB", "MB", "GB", "TB"}
	f, i := float64(b), 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%dB", b)
	}
	return fmt.Sprintf("%.3g%s", f, units[i])
}
