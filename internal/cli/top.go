package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/introspection"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// noSample is a figure the agent has no sample of: the container is not
// running, or started less than the sampler's second ago.
const noSample = "<no sample>"

// topView shows one row per container, as `kubectl top pods --containers`
// does. Its resource is only named for messages: top reads TopPath.
var topView = view{
	names:   []string{"tasks"},
	res:     introspection.Resource{Name: "top", Kind: "Task"},
	columns: topColumns,
	rows:    topRows,
	match:   matchTaskMetrics,
}

var topColumns = []metav1.TableColumnDefinition{
	{Name: "Task", Type: "string", Description: "task id"},
	{Name: "Container", Type: "string"},
	{Name: "CPU(%)", Type: "string", Description: "percent of one CPU, as docker stats shows it"},
	{Name: "Memory(MiB)", Type: "string", Description: "in use less the inactive file cache, as docker stats shows it"},
	{Name: "Limit(MiB)", Type: "string", Priority: 1, Description: "the container's hard memory limit"},
	{Name: "Family:Rev", Type: "string", Priority: 1},
	{Name: "Status", Type: "string", Priority: 1, Description: "the container's known status"},
	{Name: "Docker-ID", Type: "string", Priority: 1},
}

type topFlags struct {
	output string
	sortBy string
}

func newTopCommand(o *options) *cobra.Command {
	f := &topFlags{}
	cmd := &cobra.Command{
		Use:   "top [TASK...]",
		Short: "Show the CPU and memory each running task's containers use now",
		Long: "Show the CPU and memory use of the containers of every task not yet stopped, from the\n" +
			"running agent's latest Docker stats sample (about a second old), reckoned as docker stats\n" +
			"does: CPU in percent of one CPU, memory less the inactive file cache. Tasks may be named\n" +
			"as for get: by id, ARN or a unique id prefix. The agent samples nothing when\n" +
			"ECS_DISABLE_METRICS=true, and top says so.",
		Example: "  ecs-agent top\n  ecs-agent top 0123abcd -o wide\n  ecs-agent top --sort-by memory\n  ecs-agent top -o json",
		ValidArgsFunction: func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return completeTasks(cmd.Context(), o, toComplete), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTop(cmd.Context(), o, f, args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "output format: wide, json or yaml")
	cmd.Flags().StringVar(&f.sortBy, "sort-by", "", "list the tasks using the most first: cpu or memory (summed over a task's containers)")
	o.addFlags(cmd)
	return cmd
}

func runTop(ctx context.Context, o *options, f *topFlags, names []string, out, stderr io.Writer) error {
	p, err := newPrinter(f.output)
	if err != nil {
		return err
	}
	switch f.sortBy {
	case "", "cpu", "memory":
	default:
		return fmt.Errorf("unknown --sort-by %q: use cpu or memory", f.sortBy)
	}
	t := o.resolve(stderr)
	agent := newAgentClient(t.port)
	defer agent.close()
	// Unlike get, top has no store file to fall back on: usage is only
	// ever in the running agent's memory.
	if err := agent.ping(ctx); err != nil {
		return fmt.Errorf("no agent answers on 127.0.0.1:%d (%v): top shows what the running agent samples, so it needs the agent "+
			"(use --introspection-port if it is configured differently)", t.port, err)
	}
	list, err := agent.top(ctx)
	if err != nil {
		return err
	}
	if err := selectNamed(topView, list, names); err != nil {
		return fmt.Errorf("%w (top shows the tasks not yet stopped; get tasks lists them all)", err)
	}
	sortTop(list.Items, f.sortBy)
	return p.printList(topView, list, out, stderr)
}

// top reads the tasks' usage from the agent.
func (a *agentClient) top(ctx context.Context) (*apiv1.TaskMetricsList, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := a.do(ctx, introspection.TopPath)
	if err != nil {
		var se *statusError
		if errors.As(err, &se) && se.code == http.StatusNotFound && se.message == introspection.MetricsDisabledMessage {
			// The whole answer: the path and status add nothing to it.
			return nil, errors.New(se.message)
		}
		return nil, fmt.Errorf("read usage from %s: %w", a.where(), err)
	}
	defer resp.Body.Close()
	var list apiv1.TaskMetricsList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("read usage from %s: decode: %w", a.where(), err)
	}
	return &list, nil
}

// sortTop puts the tasks using the most of by ("cpu" or "memory") first,
// as kubectl top --sort-by does; "" keeps the agent's order (by task id).
// A task's containers keep their order.
func sortTop(items []apiv1.TaskMetrics, by string) {
	if by == "" {
		return
	}
	total := func(m apiv1.TaskMetrics) float64 {
		sum := 0.0
		for _, c := range m.Containers {
			switch {
			case by == "cpu" && c.CPUPercent != nil:
				sum += *c.CPUPercent
			case by == "memory" && c.MemoryBytes != nil:
				sum += float64(*c.MemoryBytes)
			}
		}
		return sum
	}
	sort.SliceStable(items, func(i, j int) bool { return total(items[i]) > total(items[j]) })
}

func topRows(obj store.Object, _ time.Time) []metav1.TableRow {
	m := obj.(*apiv1.TaskMetrics)
	rows := make([]metav1.TableRow, 0, len(m.Containers))
	for _, c := range m.Containers {
		rows = append(rows, row(m,
			m.Name,
			c.Name,
			cpuCell(c.CPUPercent),
			mibCell(c.MemoryBytes, noSample),
			mibCell(c.MemoryLimitBytes, none),
			fmt.Sprintf("%s:%d", m.Family, m.Revision),
			knownStatus(c.KnownStatus),
			orNone(shortID(c.DockerID)),
		))
	}
	return rows
}

// cpuCell shows two decimals, as docker stats does.
func cpuCell(percent *float64) string {
	if percent == nil {
		return noSample
	}
	return strconv.FormatFloat(*percent, 'f', 2, 64)
}

// mibCell shows bytes in MiB with one decimal, or missing.
func mibCell(bytes *int64, missing string) string {
	if bytes == nil {
		return missing
	}
	return strconv.FormatFloat(float64(*bytes)/(1<<20), 'f', 1, 64)
}

// matchTaskMetrics matches as matchTask does: by id, ARN or id prefix.
func matchTaskMetrics(obj store.Object, name string) bool {
	m, ok := obj.(*apiv1.TaskMetrics)
	return ok && namesTask(m.Name, m.Arn, name)
}
