package ports

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

func newAllocator(t *testing.T, opts Options) (*Allocator, *store.Bolt) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "agent.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if opts.CanBind == nil {
		opts.CanBind = func(string, int32) error { return nil }
	}
	return New(st, opts), st
}

func task(t *testing.T, st store.Store, name string, mutate func(*apiv1.Task)) *apiv1.Task {
	t.Helper()
	tk := &apiv1.Task{Spec: apiv1.TaskSpec{DesiredStatus: apiv1.StatusRunning}}
	tk.Name = name
	if mutate != nil {
		mutate(tk)
	}
	if err := st.Create(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	return tk
}

func web(mappings ...apiv1.PortMapping) *apiv1.ContainerSpec {
	return &apiv1.ContainerSpec{Name: "web", PortMappings: mappings}
}

func TestDynamicPortsSkipReservedAndHeldPorts(t *testing.T) {
	a, st := newAllocator(t, Options{Dynamic: Range{Start: 5000, End: 5003}, ReservedTCP: []int32{5000}})
	ctx := context.Background()
	got := map[int32]bool{}
	for _, name := range []string{"a", "b", "c"} {
		tk := task(t, st, name, nil)
		b, err := a.Allocate(ctx, tk, web(apiv1.PortMapping{ContainerPort: 80}))
		if err != nil {
			t.Fatalf("allocate for %s: %v", name, err)
		}
		if p := b[0].HostPort; p == 5000 || got[p] || p < 5000 || p > 5003 {
			t.Fatalf("task %s got host port %d (reserved, taken or out of range; have %v)", name, p, got)
		}
		got[b[0].HostPort] = true
	}
	_, err := a.Allocate(ctx, task(t, st, "d", nil), web(apiv1.PortMapping{ContainerPort: 80}))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("fourth task in a range of three free ports: err %v, want ErrUnavailable", err)
	}
}

func TestAllocateIsIdempotentPerContainer(t *testing.T) {
	a, st := newAllocator(t, Options{Dynamic: Range{Start: 6000, End: 6100}})
	tk := task(t, st, "a", nil)
	c := web(apiv1.PortMapping{ContainerPort: 80}, apiv1.PortMapping{ContainerPort: 53, Protocol: "udp"})
	first, err := a.Allocate(context.Background(), tk, c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.Allocate(context.Background(), tk, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[0] != again[0] || first[1] != again[1] {
		t.Fatalf("second allocation %v differs from first %v", again, first)
	}
}

func TestDynamicPortThatCannotBeBoundIsSkipped(t *testing.T) {
	a, st := newAllocator(t, Options{Dynamic: Range{Start: 7000, End: 7001}, CanBind: func(_ string, p int32) error {
		if p == 7000 {
			return errors.New("address already in use")
		}
		return nil
	}})
	b, err := a.Allocate(context.Background(), task(t, st, "a", nil), web(apiv1.PortMapping{ContainerPort: 80}))
	if err != nil || b[0].HostPort != 7001 {
		t.Fatalf("got %v, %v; want 7001", b, err)
	}
}

func TestStaticPortHeldByAnotherTask(t *testing.T) {
	cases := []struct {
		name   string
		holder func(*apiv1.Task)
		want   error // nil: taken over
	}{
		{"running holder keeps it", nil, ErrUnavailable},
		{"stopping holder: retry later", func(t *apiv1.Task) { t.Spec.DesiredStatus = apiv1.StatusStopped }, ErrPending},
		{"stopped holder: stale, taken over", func(t *apiv1.Task) { t.Status.KnownStatus = apiv1.StatusStopped }, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, st := newAllocator(t, Options{})
			ctx := context.Background()
			m := apiv1.PortMapping{ContainerPort: 80, HostPort: 8080}
			if _, err := a.Allocate(ctx, task(t, st, "old", tc.holder), web(m)); err != nil {
				t.Fatal(err)
			}
			_, err := a.Allocate(ctx, task(t, st, "new", nil), web(m))
			if tc.want == nil {
				var pa apiv1.PortAllocation
				if err != nil || st.Get(ctx, apiv1.PortAllocationName("tcp", 8080), &pa) != nil || pa.Spec.Task != "new" {
					t.Fatalf("err %v, holder %q; want the new task to hold 8080", err, pa.Spec.Task)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestStaticPortInUseOnHostIsRefusedAndNotKept(t *testing.T) {
	a, st := newAllocator(t, Options{CanBind: func(string, int32) error { return errors.New("address already in use") }})
	ctx := context.Background()
	_, err := a.Allocate(ctx, task(t, st, "a", nil), web(apiv1.PortMapping{ContainerPort: 80, HostPort: 8080}))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v, want ErrUnavailable", err)
	}
	var list apiv1.PortAllocationList
	if err := st.List(ctx, &list); err != nil || len(list.Items) != 0 {
		t.Fatalf("allocations after a refused port: %v, %v", list.Items, err)
	}
}

// TestStaticPortThatIsReservedIsRefused: a static task asking for a
// reserved port (the agent's own 51679, say) is refused, and nothing is
// recorded for it.
func TestStaticPortThatIsReservedIsRefused(t *testing.T) {
	a, st := newAllocator(t, Options{ReservedTCP: []int32{22, 51679}})
	ctx := context.Background()
	_, err := a.Allocate(ctx, task(t, st, "t", nil), web(apiv1.PortMapping{ContainerPort: 80, HostPort: 51679}))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "51679/tcp is reserved") {
		t.Fatalf("err %v, want ErrUnavailable naming 51679/tcp as reserved", err)
	}
	var pa apiv1.PortAllocation
	if err := st.Get(ctx, apiv1.PortAllocationName("tcp", 51679), &pa); err == nil {
		t.Fatalf("reserved port recorded for task %q", pa.Spec.Task)
	}
}
