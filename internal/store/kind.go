package store

import (
	"reflect"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// GroupVersion is the apiVersion objects read from the store carry.
var GroupVersion = apiv1.GroupVersion

// KindOf returns the kind of an object or list: its Go type name ("Task"),
// without the "List" suffix for lists ("TaskList" → "Task").
func KindOf(obj runtime.Object) string {
	t := reflect.TypeOf(obj)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return ""
	}
	name := t.Name()
	if _, ok := obj.(metav1.ListInterface); ok {
		name = strings.TrimSuffix(name, "List")
	}
	return name
}

// setTypeMeta stamps apiVersion and kind on obj, so that JSON and YAML
// output of objects read from the store says what they are.
func setTypeMeta(obj runtime.Object, kind string) {
	obj.GetObjectKind().SetGroupVersionKind(GroupVersion.WithKind(kind))
}

// setItemsTypeMeta stamps every element of list's Items, whatever its type.
func setItemsTypeMeta(list ObjectList, kind string) {
	items := reflect.ValueOf(list).Elem().FieldByName("Items")
	if !items.IsValid() || items.Kind() != reflect.Slice {
		return
	}
	for i := range items.Len() {
		if o, ok := items.Index(i).Addr().Interface().(runtime.Object); ok {
			setTypeMeta(o, kind)
		}
	}
}
