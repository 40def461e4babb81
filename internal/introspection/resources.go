package introspection

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Resource is one kind of object the agent API serves, under
// AgentAPIPrefix + Name.
type Resource struct {
	// Name is the path segment: the plural of the kind in lower case.
	Name string
	// Kind is the store's kind ("Task").
	Kind      string
	NewObject func() store.Object
	NewList   func() store.ObjectList
	// Redact, when set, removes from an object what must not leave the
	// agent: it is applied to every object served, and by the CLI to
	// objects it reads from the store file.
	Redact func(store.Object)
}

// Shown returns obj as it may be shown: itself, or a redacted copy.
func (r Resource) Shown(obj store.Object) store.Object {
	if r.Redact == nil {
		return obj
	}
	c := obj.DeepCopyObject().(store.Object)
	r.Redact(c)
	return c
}

// RedactList redacts every item of a list read for showing, in place.
func (r Resource) RedactList(list store.ObjectList) error {
	if r.Redact == nil {
		return nil
	}
	return meta.EachListItem(list, func(o runtime.Object) error {
		if so, ok := o.(store.Object); ok {
			r.Redact(so)
		}
		return nil
	})
}

// redactCredentialsID shows only the start of a credentials id: the id is
// what lets a caller read the role's keys from the credentials endpoint,
// and the agent API answers any local process (host-network containers
// included).
func redactCredentialsID(o store.Object) {
	if c, ok := o.(*apiv1.Credentials); ok {
		c.Spec.ID = apiv1.ShortCredentialsID(c.Spec.ID)
	}
}

// Resources are the kinds the agent API serves.
var Resources = []Resource{
	{Name: "tasks", Kind: "Task", Redact: hideTaskValues,
		NewObject: func() store.Object { return &apiv1.Task{} }, NewList: func() store.ObjectList { return &apiv1.TaskList{} }},
	{Name: "images", Kind: "Image",
		NewObject: func() store.Object { return &apiv1.Image{} }, NewList: func() store.ObjectList { return &apiv1.ImageList{} }},
	{Name: "portallocations", Kind: "PortAllocation",
		NewObject: func() store.Object { return &apiv1.PortAllocation{} }, NewList: func() store.ObjectList { return &apiv1.PortAllocationList{} }},
	{Name: "events", Kind: "Event",
		NewObject: func() store.Object { return &apiv1.Event{} }, NewList: func() store.ObjectList { return &apiv1.EventList{} }},
	{Name: "containerinstances", Kind: "ContainerInstance",
		NewObject: func() store.Object { return &apiv1.ContainerInstance{} }, NewList: func() store.ObjectList { return &apiv1.ContainerInstanceList{} }},
	{Name: "credentials", Kind: "Credentials", Redact: redactCredentialsID,
		NewObject: func() store.Object { return &apiv1.Credentials{} }, NewList: func() store.ObjectList { return &apiv1.CredentialsList{} }},
	{Name: "statictaskfiles", Kind: "StaticTaskFile",
		NewObject: func() store.Object { return &apiv1.StaticTaskFile{} }, NewList: func() store.ObjectList { return &apiv1.StaticTaskFileList{} }},
}

// hideTaskValues shows a task with its environment values, Docker label
// values and log options hidden (apiv1.HiddenValue).
func hideTaskValues(o store.Object) {
	if t, ok := o.(*apiv1.Task); ok {
		t.HideValues()
	}
}

// ResourceFor finds a resource by its path name or its kind, in any case.
func ResourceFor(name string) (Resource, bool) {
	for _, r := range Resources {
		if strings.EqualFold(name, r.Name) || strings.EqualFold(name, r.Kind) {
			return r, true
		}
	}
	return Resource{}, false
}

// EventFilter selects the events of some objects: the query parameters
// involvedKind and involvedName (which may repeat) of the events resource.
type EventFilter struct {
	InvolvedKind string
	// InvolvedNames are the objects' names: an event about any of them
	// matches.
	InvolvedNames []string
}

// Match reports whether ev is about a filtered object; an empty field
// matches anything.
func (f EventFilter) Match(ev *apiv1.Event) bool {
	return (f.InvolvedKind == "" || f.InvolvedKind == ev.InvolvedKind) &&
		(len(f.InvolvedNames) == 0 || slices.Contains(f.InvolvedNames, ev.InvolvedName))
}

// Apply removes from list the events that do not match.
func (f EventFilter) Apply(list *apiv1.EventList) {
	kept := list.Items[:0]
	for i := range list.Items {
		if f.Match(&list.Items[i]) {
			kept = append(kept, list.Items[i])
		}
	}
	list.Items = kept
}
