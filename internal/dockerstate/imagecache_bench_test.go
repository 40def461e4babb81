package dockerstate_test

import (
	"context"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// BenchmarkImagePresent measures one image check: a daemon round trip
// (image inspect, which is what every check cost before the image cache and
// is still what one costs before the first List), against the cache, by
// name and by id prefix.
func BenchmarkImagePresent(b *testing.B) {
	if noDaemon != "" {
		b.Skipf("real-daemon benchmark skipped: %s", noDaemon)
	}
	unsynced, err := dockerstate.New(dockerstate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer unsynced.Close()
	cached := syncedDocker(b)
	app, ok, err := cached.ImagePresent(b.Context(), testImage)
	if !ok || err != nil {
		b.Fatalf("%s not cached: %v", testImage, err)
	}
	for _, bb := range []struct {
		name string
		d    *dockerstate.Docker
		ref  string
	}{
		{"daemon round trip", unsynced, testImage},
		{"cache by name", cached, testImage},
		{"cache by id prefix", cached, app.ID[:19]},
	} {
		b.Run(bb.name, func(b *testing.B) {
			ctx := b.Context()
			for b.Loop() {
				if _, ok, err := bb.d.ImagePresent(ctx, bb.ref); !ok || err != nil {
					b.Fatalf("ImagePresent(%s) = %v, %v", bb.ref, ok, err)
				}
			}
		})
	}
}

// syncedDocker is a Docker whose cache has been filled, running until the
// benchmark ends.
func syncedDocker(b *testing.B) *dockerstate.Docker {
	b.Helper()
	d, err := dockerstate.New(dockerstate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	synced := make(chan struct{}, 1)
	b.Cleanup(d.Subscribe(func(ch dockerstate.Change) {
		if ch.Kind == dockerstate.Resynced {
			select {
			case synced <- struct{}{}:
			default:
			}
		}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done; d.Close() })
	select {
	case <-synced:
	case <-time.After(10 * time.Second):
		b.Fatal("docker cache not synced within 10s")
	}
	return d
}
