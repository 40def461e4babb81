package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/store/storetest"
)

// TestMutateFrom200WritersAtOnceKeepsEveryChange is a burst of 200 tasks
// each recording its pull request in one Image: every Mutate succeeds and
// every request is kept. Optimistic retries ran out of attempts here.
func TestMutateFrom200WritersAtOnceKeepsEveryChange(t *testing.T) {
	const writers = 200
	ctx := context.Background()
	s, _ := openTemp(t)
	storetest.MustCreate(t, s, &apiv1.Image{ObjectMeta: metav1.ObjectMeta{Name: "app"}, Spec: apiv1.ImageSpec{Ref: "app:1"}})
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = store.Mutate(ctx, s, "app", func(img *apiv1.Image) error {
				img.Spec.SetRequest(apiv1.PullRequest{Task: fmt.Sprintf("task%03d", i)})
				return nil
			})
		})
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			if failed == 0 {
				t.Errorf("mutate: %v", err)
			}
			failed++
		}
	}
	var got apiv1.Image
	if err := s.Get(ctx, "app", &got); err != nil {
		t.Fatal(err)
	}
	if failed > 0 || len(got.Spec.Requests) != writers {
		t.Fatalf("%d of %d mutates failed; %d requests stored, want %d", failed, writers, len(got.Spec.Requests), writers)
	}
}

func TestMutateStopsOnErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		obj  string
		fn   func(*apiv1.Task) error
		want error
	}{
		{"missing object", "ghost", func(*apiv1.Task) error { return nil }, store.ErrNotFound},
		{"fn fails", "a", func(*apiv1.Task) error { return boom }, boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTemp(t)
			storetest.MustCreate(t, s, storetest.NewTask("a"))
			if _, err := store.Mutate(context.Background(), s, tc.obj, tc.fn); !errors.Is(err, tc.want) {
				t.Errorf("mutate: %v, want %v", err, tc.want)
			}
		})
	}
}
