package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/events"
	"github.com/ecs-agent/ecs-agent/internal/introspection"
)

func newDescribeCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe task (ID|ARN|ID-PREFIX)",
		Short: "Show a task in detail: its definition, containers, ports, health, exit codes and recent events",
		Example: "  ecs-agent describe task 0123abcd\n" +
			"  ecs-agent describe task arn:aws:ecs:local:000000000000:task/default/0123456789abcdef0123456789abcdef",
		Args: cobra.ExactArgs(2),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return []cobra.Completion{"task"}, cobra.ShellCompDirectiveNoFileComp
			}
			if len(args) > 1 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return completeTasks(cmd.Context(), o, toComplete), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if v, err := viewFor(args[0]); err != nil || v.names[0] != "tasks" {
				return fmt.Errorf("describe shows tasks: ecs-agent describe task (ID|ARN|ID-PREFIX); got %q", args[0])
			}
			return runDescribe(cmd.Context(), o, args[1], cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.addFlags(cmd)
	return cmd
}

// completeTasks offers the ids of the agent's tasks that start with
// prefix, each described by its family, revision and status. Completion
// must stay quiet: a missing agent offers nothing.
func completeTasks(ctx context.Context, o *options, prefix string) []cobra.Completion {
	if ctx == nil {
		ctx = context.Background()
	}
	src, err := o.connect(ctx, io.Discard)
	if err != nil {
		return nil
	}
	defer src.close()
	list, err := src.list(ctx, views[0].res, introspection.EventFilter{})
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, t := range list.(*apiv1.TaskList).Items {
		if strings.HasPrefix(t.Name, prefix) {
			out = append(out, cobra.CompletionWithDesc(t.Name, fmt.Sprintf("%s:%d %s", t.Spec.Family, t.Spec.Revision, knownStatus(t.Status.KnownStatus))))
		}
	}
	return out
}

func runDescribe(ctx context.Context, o *options, name string, out, stderr io.Writer) error {
	src, err := o.connect(ctx, stderr)
	if err != nil {
		return err
	}
	defer src.close()
	tasks := views[0]
	list, err := src.list(ctx, tasks.res, introspection.EventFilter{})
	if err != nil {
		return err
	}
	if err := selectNamed(tasks, list, []string{name}); err != nil {
		return err
	}
	task := list.(*apiv1.TaskList).Items[0]
	evs, err := taskEvents(ctx, src, &task)
	if err != nil {
		return err
	}
	creds, err := taskCredentials(ctx, src, &task)
	if err != nil {
		return err
	}

	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	describeTask(w, &task, creds, evs, time.Now())
	return w.Flush()
}

// describer writes "Key:\tvalue" lines at an indentation.
type describer struct {
	w   io.Writer
	now time.Time
}

func (d describer) line(indent int, key string, value any) {
	fmt.Fprintf(d.w, "%s%s:\t%v\n", strings.Repeat("  ", indent), key, value)
}

// opt writes the line only when value is not empty.
func (d describer) opt(indent int, key, value string) {
	if value != "" {
		d.line(indent, key, value)
	}
}

func (d describer) time(indent int, key string, t *metav1.MicroTime) {
	if t != nil {
		d.line(indent, key, fmt.Sprintf("%s (%s)", t.UTC().Format(time.RFC3339), relative(d.now, t.Time)))
	}
}

// relative says when t is from now: "5m ago", or "in 2h59m" for a time to
// come (a cleanup, a restart's backoff), which an age cannot say.
func relative(now, t time.Time) string {
	if !t.After(now) {
		return age(now, t) + " ago"
	}
	d := t.Sub(now)
	if d < time.Minute {
		return "in " + d.Round(time.Second).String()
	}
	// "2h59m0s" without its seconds: the minute is precise enough.
	return "in " + strings.TrimSuffix(d.Truncate(time.Minute).String(), "0s")
}

func describeTask(w io.Writer, t *apiv1.Task, creds []apiv1.Credentials, evs []apiv1.Event, now time.Time) {
	d := describer{w: w, now: now}
	d.line(0, "Name", t.Name)
	d.line(0, "ARN", orNone(t.Spec.Arn))
	d.line(0, "Family", fmt.Sprintf("%s:%d", t.Spec.Family, t.Spec.Revision))
	d.opt(0, "Cluster", t.Spec.Cluster)
	d.line(0, "Source", orNone(sourceOf(t)))
	d.line(0, "Network Mode", orDefault(t.Spec.NetworkMode, apiv1.NetworkModeBridge))
	d.opt(0, "CPU", t.Spec.CPU)
	d.opt(0, "Memory", t.Spec.Memory)
	d.opt(0, "Task Role", t.Spec.TaskRoleArn)
	d.opt(0, "Execution Role", t.Spec.ExecutionRoleArn)
	d.line(0, "Desired Status", orNone(string(t.Spec.DesiredStatus)))
	d.line(0, "Known Status", knownStatus(t.Status.KnownStatus))
	d.opt(0, "Reported Status", string(t.Status.ReportedStatus))
	d.opt(0, "Definition Error", t.Spec.DefinitionError)
	if t.Status.StoppingReason != t.Status.StoppedReason {
		d.opt(0, "Stopping Reason", t.Status.StoppingReason)
	}
	d.opt(0, "Stopped Reason", t.Status.StoppedReason)
	if !t.CreationTimestamp.IsZero() {
		created := metav1.NewMicroTime(t.CreationTimestamp.Time)
		d.time(0, "Created", &created)
	}
	d.time(0, "Pull Started", t.Status.PullStartedAt)
	d.time(0, "Pull Stopped", t.Status.PullStoppedAt)
	d.time(0, "Started", t.Status.StartedAt)
	d.time(0, "Stopping", t.Status.StoppingAt)
	d.time(0, "Stopped", t.Status.StoppedAt)
	d.time(0, "Cleanup At", t.Status.CleanupAt)
	if len(t.Spec.Volumes) > 0 {
		d.line(0, "Volumes", "")
		for _, v := range t.Spec.Volumes {
			d.line(1, v.Name, volumeSource(v))
		}
	}
	describeCredentials(d, t, creds)
	d.line(0, "Containers", "")
	for i := range t.Spec.Containers {
		describeContainer(d, t, &t.Spec.Containers[i])
	}
	describeEvents(w, evs, now)
}

func describeContainer(d describer, t *apiv1.Task, c *apiv1.ContainerSpec) {
	cs := t.Status.ContainerStatusFor(c.Name)
	if cs == nil {
		cs = &apiv1.ContainerStatus{Name: c.Name}
	}
	d.line(1, c.Name, "")
	d.line(2, "Image", c.Image)
	d.opt(2, "Image ID", cs.ImageID)
	d.line(2, "Docker ID", orNone(cs.DockerID))
	d.opt(2, "Docker Name", cs.DockerName)
	d.line(2, "Essential", c.Essential)
	d.line(2, "Status", knownStatus(cs.KnownStatus))
	if cs.ExitCode != nil {
		d.line(2, "Exit Code", *cs.ExitCode)
	}
	d.opt(2, "Reason", cs.Reason)
	if cs.Health != nil {
		h := cs.Health.Status
		if cs.Health.Since != nil {
			h += fmt.Sprintf(" (since %s ago)", age(d.now, cs.Health.Since.Time))
		}
		d.line(2, "Health", h)
		d.opt(2, "Health Output", oneLine(cs.Health.Output))
	} else if c.HealthCheck != nil {
		d.line(2, "Health", apiv1.HealthUnknown)
	}
	if c.HealthCheck != nil {
		d.line(2, "Health Check", strings.Join(c.HealthCheck.Command, " "))
	}
	d.line(2, "Ports", orNone(containerPorts(c, cs)))
	if len(c.DependsOn) > 0 {
		deps := make([]string, 0, len(c.DependsOn))
		for _, dep := range c.DependsOn {
			deps = append(deps, fmt.Sprintf("%s (%s)", dep.ContainerName, dep.Condition))
		}
		d.line(2, "Depends On", strings.Join(deps, ", "))
	}
	d.opt(2, "Command", strings.Join(c.Command, " "))
	d.opt(2, "Entry Point", strings.Join(c.EntryPoint, " "))
	// Names only: environment values are often credentials in practice.
	if len(c.Environment) > 0 {
		names := make([]string, 0, len(c.Environment))
		for _, kv := range c.Environment {
			names = append(names, kv.Name)
		}
		d.line(2, "Environment", strings.Join(names, ", ")+" (values not shown)")
	}
	if len(c.Secrets) > 0 {
		refs := make([]string, 0, len(c.Secrets))
		for _, s := range c.Secrets {
			refs = append(refs, s.Name+" from "+s.ValueFrom)
		}
		d.line(2, "Secrets", strings.Join(refs, ", "))
	}
	for _, m := range c.MountPoints {
		ro := ""
		if m.ReadOnly {
			ro = " (ro)"
		}
		d.line(2, "Mount", m.SourceVolume+" -> "+m.ContainerPath+ro)
	}
	d.time(2, "Created", cs.CreatedAt)
	d.time(2, "Started", cs.StartedAt)
	d.time(2, "Stop Requested", cs.StopRequestedAt)
	d.time(2, "Finished", cs.FinishedAt)
	if cs.RestartCount > 0 {
		d.line(2, "Restarts", cs.RestartCount)
		d.time(2, "Last Restart", cs.LastRestartAt)
	}
}

// containerPorts shows the bindings once known, the mappings asked for before.
func containerPorts(c *apiv1.ContainerSpec, cs *apiv1.ContainerStatus) string {
	if len(cs.Ports) > 0 {
		return portList(cs.Ports)
	}
	parts := make([]string, 0, len(c.PortMappings))
	for _, p := range c.PortMappings {
		host := "dynamic"
		if p.HostPort != 0 {
			host = fmt.Sprint(p.HostPort)
		}
		parts = append(parts, fmt.Sprintf("%s->%d/%s (not bound yet)", host, p.ContainerPort, protocol(p.Protocol)))
	}
	return strings.Join(parts, ",")
}

// taskEvents reads the task's own events and those of its images since
// the task was created, oldest first: the pulls it waited for, with their
// durations, belong to its story. The source selects the objects' events;
// kind and time are checked here.
func taskEvents(ctx context.Context, src source, task *apiv1.Task) ([]apiv1.Event, error) {
	filter := introspection.EventFilter{InvolvedNames: []string{task.Name}}
	images := map[string]bool{}
	for _, c := range task.Spec.Containers {
		name := apiv1.ImageObjectName(c.Image)
		if !images[name] {
			images[name] = true
			filter.InvolvedNames = append(filter.InvolvedNames, name)
		}
	}
	list, err := src.list(ctx, mustResource("events"), filter)
	if err != nil {
		return nil, err
	}
	var evs []apiv1.Event
	for _, ev := range list.(*apiv1.EventList).Items {
		switch {
		case ev.InvolvedKind == "Task" && ev.InvolvedName == task.Name:
		case ev.InvolvedKind == "Image" && images[ev.InvolvedName] && !ev.LastTimestamp.Time.Before(task.CreationTimestamp.Time):
		default:
			continue
		}
		evs = append(evs, ev)
	}
	events.Sort(evs)
	return evs, nil
}

func describeEvents(w io.Writer, evs []apiv1.Event, now time.Time) {
	if len(evs) == 0 {
		fmt.Fprintln(w, "Events:\t<none>")
		return
	}
	fmt.Fprintln(w, "Events:")
	fmt.Fprintln(w, "  Type\tReason\tAge\tMessage")
	fmt.Fprintln(w, "  ----\t------\t---\t-------")
	for _, ev := range evs {
		when := age(now, ev.FirstTimestamp.Time)
		if ev.Count > 1 {
			when = fmt.Sprintf("%s (x%d over %s)", age(now, ev.LastTimestamp.Time), ev.Count, age(now, ev.FirstTimestamp.Time))
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", ev.Type, ev.Reason, when, oneLine(ev.Message))
	}
}

func volumeSource(v apiv1.Volume) string {
	switch {
	case v.Host != nil && v.Host.SourcePath != "":
		return "host path " + v.Host.SourcePath
	case v.DockerVolumeConfiguration != nil:
		return fmt.Sprintf("docker volume (scope %s, driver %s)",
			orDefault(v.DockerVolumeConfiguration.Scope, "task"), orDefault(v.DockerVolumeConfiguration.Driver, "local"))
	}
	return "docker volume for the task"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// oneLine keeps tabwriter columns intact for multi-line output.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
