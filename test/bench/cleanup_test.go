package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/moby/moby/client"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/controllers"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate/dockerfake"
	"github.com/ecs-agent/ecs-agent/internal/store"
	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// cleanupImages is how many tracked images each measured cycle looks at.
const cleanupImages = 200

// cleanupRow is one measured cleanup cycle.
type cleanupRow struct {
	scenario   string
	removed    int
	wall, cpu  time.Duration
	candidates int
}

// BenchmarkImageCleanupCycle measures one image cleanup cycle over 200
// tracked images in the agent's own code (ImageCleanupReconciler.Cycle over
// a real bbolt store), wall time and the process's CPU time (user+system):
// with the Docker fake, a cycle that finds nothing to remove (the steady
// state), one that removes the default 5, and one that removes all 200;
// with the real daemon, one that removes all 200 references (each a tag of
// the test image, so the daemon untags rather than deletes layers: the cost
// is the agent's and the API round trips').
func BenchmarkImageCleanupCycle(b *testing.B) {
	var rows []cleanupRow
	for _, sc := range []struct {
		name     string
		perCycle int
		young    bool
		real     bool
	}{
		{name: "fake, none eligible", perCycle: 5, young: true},
		{name: "fake, remove 5 (default N)", perCycle: 5},
		{name: "fake, remove 200", perCycle: cleanupImages},
		{name: "real docker, untag 200", perCycle: cleanupImages, real: true},
	} {
		b.Run(sc.name, func(b *testing.B) {
			for range b.N {
				r := measureCleanup(b, sc.name, sc.perCycle, sc.young, sc.real)
				rows = append(rows, r)
				b.ReportMetric(float64(r.wall.Microseconds())/1000, "wall-ms")
				b.ReportMetric(float64(r.cpu.Microseconds())/1000, "cpu-ms")
			}
		})
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "image cleanup cycle over %d tracked images\tremoved\twall ms\tcpu ms\n", cleanupImages)
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%d\t%.1f\t%.1f\n", r.scenario, r.removed, float64(r.wall.Microseconds())/1000, float64(r.cpu.Microseconds())/1000)
	}
	w.Flush()
}

func measureCleanup(b *testing.B, name string, perCycle int, young, real bool) cleanupRow {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(filepath.Join(b.TempDir(), "agent.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var docker controllers.ImageCleanupDocker
	refs := make([]string, cleanupImages)
	for i := range refs {
		refs[i] = fmt.Sprintf("ecs-agent-test/cleanup-bench-%d:%d", i, os.Getpid())
	}
	if real {
		docker = realImages(b, refs)
	} else {
		fake := dockerfake.New()
		for _, ref := range refs {
			fake.AddImage(ref, dockerstate.Image{Size: 5 << 20})
		}
		docker = fake
	}
	now := time.Now()
	pulled := now.Add(-24 * time.Hour)
	if young {
		pulled = now
	}
	for i, ref := range refs {
		local, _, err := docker.ImagePresent(ctx, ref)
		if err != nil {
			b.Fatal(err)
		}
		img := &apiv1.Image{Spec: apiv1.ImageSpec{Ref: ref}}
		img.Name = apiv1.ImageObjectName(ref)
		if err := st.Create(ctx, img); err != nil {
			b.Fatal(err)
		}
		used := metaTime(pulled.Add(time.Duration(i) * time.Second))
		img.Status = apiv1.ImageStatus{Phase: apiv1.ImagePresent, ImageID: local.ID, Size: local.Size, PulledAt: metaTime(pulled), LastUsedAt: used}
		if err := st.Update(ctx, img); err != nil {
			b.Fatal(err)
		}
	}
	r := &controllers.ImageCleanupReconciler{
		Store: st, Docker: docker, Now: time.Now,
		Interval: time.Minute, MinimumAge: time.Hour, PerCycle: perCycle,
	}
	cpu0 := cpuTime()
	start := time.Now()
	res, err := r.Cycle(ctx)
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	if err != nil {
		b.Fatalf("cycle: %v", err)
	}
	want := min(perCycle, cleanupImages)
	if young {
		want = 0
	}
	if len(res.Removed) != want {
		b.Fatalf("cycle removed %d images, want %d", len(res.Removed), want)
	}
	return cleanupRow{scenario: name, removed: len(res.Removed), wall: wall, cpu: cpu, candidates: res.Candidates}
}

// realImages tags the test image under every ref on the real daemon.
func realImages(b *testing.B, refs []string) controllers.ImageCleanupDocker {
	b.Helper()
	api, err := client.New(client.FromEnv)
	if err != nil {
		b.Fatal(err)
	}
	defer api.Close()
	ctx := context.Background()
	for _, ref := range refs {
		if _, err := api.ImageTag(ctx, client.ImageTagOptions{Source: h.TestImage, Target: ref}); err != nil {
			b.Fatalf("tag %s: %v", ref, err)
		}
		b.Cleanup(func() { _, _ = api.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{}) })
	}
	docker, err := dockerstate.New(dockerstate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return docker
}

func metaTime(t time.Time) *metav1.MicroTime {
	m := metav1.NewMicroTime(t)
	return &m
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
