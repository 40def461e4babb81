package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"

	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/taskmetadata"
)

// metadataEndpoint is the task metadata and credentials endpoint with its
// HTTP server.
type metadataEndpoint struct {
	srv  *taskmetadata.Server
	http *http.Server
}

// taskMetadata builds the endpoint; stats is nil when ECS_DISABLE_METRICS
// turned sampling off.
func taskMetadata(cfg *config.Config, st store.Store, holder *credentials.Holder, docker *dockerstate.Docker, stats *dockerstate.Stats, log logr.Logger) *metadataEndpoint {
	opts := taskmetadata.Options{
		Store: st, Credentials: holder, Docker: docker,
		ContainerInstanceTags: cfg.ContainerInstanceTags,
		Limit:                 taskmetadata.Limit{Rate: float64(cfg.TaskMetadataRateLimit.Rate), Burst: cfg.TaskMetadataRateLimit.Burst},
		Log:                   log,
	}
	if stats != nil {
		opts.Stats = stats
	}
	srv := taskmetadata.New(opts)
	return &metadataEndpoint{srv: srv, http: &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: taskmetadata.Timeout,
		ReadTimeout:       taskmetadata.Timeout,
		WriteTimeout:      taskmetadata.Timeout,
	}}
}

// run serves lis until ctx ends.
func (m *metadataEndpoint) run(ctx context.Context, lis net.Listener) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.srv.Run(ctx) })
	g.Go(func() error {
		if err := m.http.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("task metadata endpoint: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return m.http.Shutdown(shutdown)
	})
	return g.Wait()
}
