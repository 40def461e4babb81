package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/introspection"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// view is one thing `get` lists: a resource of the agent API shown as a
// table whose rows come from its objects (containers are rows of tasks).
type view struct {
	// names are what the user may type; the first is the canonical one.
	names   []string
	res     introspection.Resource
	columns []metav1.TableColumnDefinition
	rows    func(obj store.Object, now time.Time) []metav1.TableRow
	// match tells whether obj is the one the user named; nil means by
	// object name.
	match func(obj store.Object, name string) bool
}

func mustResource(name string) introspection.Resource {
	res, ok := introspection.ResourceFor(name)
	if !ok {
		panic("cli: no agent API resource " + name)
	}
	return res
}

var views = []view{
	{names: []string{"tasks", "task", "t"}, res: mustResource("tasks"), columns: taskColumns, rows: taskRows, match: matchTask},
	{names: []string{"containers", "container"}, res: mustResource("tasks"), columns: containerColumns, rows: containerRows, match: matchTask},
	{names: []string{"images", "image"}, res: mustResource("images"), columns: imageColumns, rows: imageRows, match: matchImage},
	{names: []string{"ports", "port", "portallocations", "portallocation"}, res: mustResource("portallocations"), columns: portColumns, rows: portRows},
	{names: []string{"events", "event"}, res: mustResource("events"), columns: eventColumns, rows: eventRows},
	{names: []string{"containerinstance", "containerinstances", "ci"}, res: mustResource("containerinstances"),
		columns: containerInstanceColumns, rows: containerInstanceRows},
	{names: []string{"credentials", "credential", "creds"}, res: mustResource("credentials"), columns: credentialsColumns, rows: credentialsRows, match: matchCredentials},
}

func viewFor(name string) (view, error) {
	for _, v := range views {
		for _, n := range v.names {
			if strings.EqualFold(n, name) {
				return v, nil
			}
		}
	}
	return view{}, fmt.Errorf("unknown type %q: use tasks, containers, images, ports, events, credentials or containerinstance", name)
}

type getFlags struct {
	output string
	watch  bool
}

func newGetCommand(o *options) *cobra.Command {
	g := &getFlags{}
	cmd := &cobra.Command{
		Use:   "get (tasks|containers|images|ports|events|credentials|containerinstance) [NAME...]",
		Short: "List the agent's tasks, containers, images, host ports, events, task role credentials or its container instance (with the ACS session)",
		Long: "List the agent's objects as a table, or as JSON or YAML (-o). Tasks may be named by\n" +
			"id, ARN or a unique id prefix. Reads the running agent, or its store when it is stopped.",
		Example:   "  ecs-agent get tasks\n  ecs-agent get containers -o wide\n  ecs-agent get tasks -o json\n  ecs-agent get tasks -w\n  ecs-agent get containerinstance -o wide",
		Args:      cobra.MinimumNArgs(1),
		ValidArgs: []string{"tasks", "containers", "images", "ports", "events", "credentials", "containerinstance"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGet(cmd.Context(), o, g, args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVarP(&g.output, "output", "o", "", "output format: wide, json or yaml")
	cmd.Flags().BoolVarP(&g.watch, "watch", "w", false, "after listing, print each change as the agent makes it")
	o.addFlags(cmd)
	return cmd
}

func runGet(ctx context.Context, o *options, g *getFlags, args []string, out, stderr io.Writer) error {
	v, err := viewFor(args[0])
	if err != nil {
		return err
	}
	p, err := newPrinter(g.output)
	if err != nil {
		return err
	}
	src, err := o.connect(ctx, stderr)
	if err != nil {
		return err
	}
	defer src.close()

	list, err := src.list(ctx, v.res, introspection.EventFilter{})
	if err != nil {
		return err
	}
	names := args[1:]
	if err := selectNamed(v, list, names); err != nil {
		return err
	}
	if err := p.printList(v, list, out, stderr); err != nil {
		return err
	}
	if !g.watch {
		return nil
	}
	// The watch starts with every current object; those the list above
	// already showed (resource version up to the list's) are skipped.
	listRV, _ := strconv.ParseUint(list.GetResourceVersion(), 10, 64)
	err = src.watch(ctx, v.res, func(typ string, obj store.Object) error {
		if rv, _ := strconv.ParseUint(obj.GetResourceVersion(), 10, 64); typ == string(store.Added) && rv <= listRV {
			return nil
		}
		if len(names) > 0 && !matchesAny(v, obj, names) {
			return nil
		}
		return p.printObject(v, obj, out)
	})
	if errors.Is(err, errNoWatch) {
		fmt.Fprintln(stderr, err)
		return nil
	}
	return err
}

// selectNamed keeps in list the objects the user named; each name must
// match one.
func selectNamed(v view, list store.ObjectList, names []string) error {
	if len(names) == 0 {
		return nil
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	var kept []runtime.Object
	for _, name := range names {
		var found []runtime.Object
		for _, item := range items {
			if matches(v, item.(store.Object), name) {
				found = append(found, item)
			}
		}
		if len(found) > 1 {
			found = preferExact(found, name)
		}
		switch {
		case len(found) == 0:
			return fmt.Errorf("%s %q not found", v.res.Kind, name)
		case len(found) > 1 && v.match != nil:
			return ambiguous(v.res.Kind, name, found)
		}
		kept = append(kept, found...)
	}
	return meta.SetList(list, kept)
}

// preferExact narrows matches to the one named exactly (by name or ARN),
// if there is one: a full id is never ambiguous.
func preferExact(found []runtime.Object, name string) []runtime.Object {
	for _, f := range found {
		if f.(store.Object).GetName() == name {
			return []runtime.Object{f}
		}
		if t, ok := f.(*apiv1.Task); ok && t.Spec.Arn == name {
			return []runtime.Object{f}
		}
		if m, ok := f.(*apiv1.TaskMetrics); ok && m.Arn == name {
			return []runtime.Object{f}
		}
	}
	return found
}

func matches(v view, obj store.Object, name string) bool {
	if v.match != nil {
		return v.match(obj, name)
	}
	return obj.GetName() == name
}

func matchesAny(v view, obj store.Object, names []string) bool {
	for _, n := range names {
		if matches(v, obj, n) {
			return true
		}
	}
	return false
}

func ambiguous(kind, name string, found []runtime.Object) error {
	var cands []string
	for _, f := range found {
		cands = append(cands, f.(store.Object).GetName())
	}
	return fmt.Errorf("%s %q is ambiguous: it matches %s; give more of the id", kind, name, strings.Join(cands, ", "))
}

// matchTask matches a task by id, ARN or id prefix.
func matchTask(obj store.Object, name string) bool {
	t, ok := obj.(*apiv1.Task)
	return ok && namesTask(t.Name, t.Spec.Arn, name)
}

// namesTask reports whether name names the task of that id and ARN: the
// id, the ARN or a prefix of the id.
func namesTask(id, arn, name string) bool {
	return id == name || (arn != "" && arn == name) || strings.HasPrefix(id, name)
}

// matchImage matches an image by object name or reference.
func matchImage(obj store.Object, name string) bool {
	img, ok := obj.(*apiv1.Image)
	return ok && (img.Name == name || img.Spec.Ref == name)
}

// printer prints lists and watched objects in one output format.
type printer struct {
	format string
	table  printers.ResourcePrinter
	json   printers.ResourcePrinter
	yaml   printers.ResourcePrinter
}

func newPrinter(format string) (*printer, error) {
	switch format {
	case "", "wide", "json", "yaml":
	default:
		return nil, fmt.Errorf("unknown output format %q: use wide, json or yaml", format)
	}
	return &printer{
		format: format,
		table:  printers.NewTablePrinter(printers.PrintOptions{Wide: format == "wide"}),
		json:   &printers.JSONPrinter{},
		yaml:   &printers.YAMLPrinter{},
	}, nil
}

func (p *printer) printList(v view, list store.ObjectList, out, stderr io.Writer) error {
	switch p.format {
	case "json":
		return p.json.PrintObj(list, out)
	case "yaml":
		return p.yaml.PrintObj(list, out)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	table := &metav1.Table{ColumnDefinitions: v.columns}
	now := time.Now()
	for _, item := range items {
		table.Rows = append(table.Rows, v.rows(item.(store.Object), now)...)
	}
	if len(table.Rows) == 0 {
		fmt.Fprintf(stderr, "No %s found.\n", v.names[0])
		return nil
	}
	return p.table.PrintObj(table, out)
}

func (p *printer) printObject(v view, obj store.Object, out io.Writer) error {
	switch p.format {
	case "json":
		return p.json.PrintObj(obj, out)
	case "yaml":
		return p.yaml.PrintObj(obj, out)
	}
	rows := v.rows(obj, time.Now())
	if len(rows) == 0 {
		return nil
	}
	return p.table.PrintObj(&metav1.Table{ColumnDefinitions: v.columns, Rows: rows}, out)
}
