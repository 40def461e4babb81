package taskdef

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestStartOrder(t *testing.T) {
	tests := []struct {
		name  string
		needs map[string][]string // container → what it needs first; containers in key order a, b, c, d
		order []string            // the one valid order, when the graph has one
		cycle []string
		err   string
	}{
		{name: "no dependencies keeps definition order",
			needs: map[string][]string{"a": nil, "b": nil}, order: []string{"a", "b"}},
		{name: "a dependency comes first",
			needs: map[string][]string{"a": {"b"}, "b": nil}, order: []string{"b", "a"}},
		{name: "diamond without a cycle",
			needs: map[string][]string{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": nil}, order: []string{"d", "b", "c", "a"}},
		{name: "self", needs: map[string][]string{"a": {"a"}}, cycle: []string{"a", "a"}},
		{name: "2-cycle", needs: map[string][]string{"a": {"b"}, "b": {"a"}}, cycle: []string{"a", "b", "a"}},
		{name: "3-cycle behind a free container",
			needs: map[string][]string{"a": nil, "b": {"c"}, "c": {"d"}, "d": {"b"}}, cycle: []string{"b", "c", "d", "b"}},
		{name: "unknown container",
			needs: map[string][]string{"a": {"b"}, "b": {"zz"}}, err: "container b depends on unknown container zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := slices.Sorted(maps.Keys(tt.needs))
			order, err := StartOrder(names, func(i int) []string { return tt.needs[names[i]] })
			var ce *CycleError
			switch {
			case tt.cycle != nil:
				if !errors.As(err, &ce) || !reflect.DeepEqual(ce.Names, tt.cycle) || names[ce.First] != tt.cycle[0] {
					t.Fatalf("StartOrder = %v, %v; want the cycle %v", order, err, tt.cycle)
				}
				if want := "dependency cycle: " + strings.Join(tt.cycle, " → "); err.Error() != want {
					t.Errorf("error %q, want %q", err, want)
				}
			case tt.err != "":
				if err == nil || err.Error() != tt.err {
					t.Fatalf("StartOrder = %v, %v; want error %q", order, err, tt.err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				got := make([]string, len(order))
				for k, i := range order {
					got[k] = names[i]
				}
				if !reflect.DeepEqual(got, tt.order) {
					t.Errorf("order %v, want %v", got, tt.order)
				}
			}
		})
	}
}

func TestParseRejectsCyclesThroughVolumesFrom(t *testing.T) {
	// Containers are created in dependency order, and a volumesFrom source
	// must exist before its consumer, so volumesFrom edges count too.
	doc := `{"family":"f","containerDefinitions":[
	  {"name":"a","image":"i","memory":64,"volumesFrom":[{"sourceContainer":"b"}]},
	  {"name":"b","image":"i","memory":64,"dependsOn":[{"containerName":"a","condition":"START"}]}]}`
	_, err := Parse("f.json", []byte(doc))
	want := "containerDefinitions[0].volumesFrom: dependency cycle: a → b → a"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Parse = %v, want an error containing %q", err, want)
	}
}
