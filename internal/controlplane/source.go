package controlplane

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"

	"github.com/ecs-agent/ecs-agent/internal/acs"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/tcs"
)

// Source is the ECS task source: it registers the container instance
// (retrying with backoff while ECS cannot be reached), then keeps an ACS
// session open and polls as the backstop (every Interval while no session
// is open, every BackstopInterval while one is). Tasks already in the
// store run on meanwhile.
type Source struct {
	Client       *Client
	Store        store.Store
	Registration Registration
	Interval     time.Duration
	Log          logr.Logger
	// DockerVersion, when set, fills in Registration's Docker versions
	// before each attempt: the daemon may come up after the agent.
	DockerVersion func(ctx context.Context) (version, apiVersion string, err error)
	// Credentials holds the task role credentials ACS hands over.
	Credentials CredentialsHolder
	// Usage is the stats sampler's figures, which telemetry (TCS)
	// publishes; nil with ECS_DISABLE_METRICS, when TCS gets health only.
	Usage UsageSampler
	// RuntimeDownSince, when set, is when Docker stopped answering (zero
	// while it answers), for the instance status sent to TCS.
	RuntimeDownSince func() time.Time
	// TelemetryTiming overrides TCS timers (tests).
	TelemetryTiming tcs.Timing

	registered    atomic.Bool
	dockerVersion string
	session       *acs.Session
}

// Registered reports whether the instance is registered.
func (s *Source) Registered() bool { return s.registered.Load() }

// Run registers and polls until ctx ends. It fails only for a registration
// no retry can fix (a missing cluster other than "default").
func (s *Source) Run(ctx context.Context) error {
	arn, err := s.register(ctx)
	if err != nil || arn == "" {
		return err
	}
	s.registered.Store(true)
	s.Log.Info("registered with ECS", "cluster", s.Registration.Cluster, "containerInstance", arn)
	wake := make(chan struct{}, 1)
	p := &Poller{
		Client: s.Client, Store: s.Store, Cluster: s.Registration.Cluster, Instance: arn,
		Interval: s.Interval, Log: s.Log.WithName("poll"), Wake: wake,
	}
	d := &discovery{client: s.Client, cluster: s.Registration.Cluster, instance: arn}
	s.session = s.newSession(arn, d, p, wake)
	p.SessionUp = s.session.Connected
	telemetry := s.newTelemetry(arn, d)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.Run(ctx) })
	g.Go(func() error { return s.runSession(ctx, arn) })
	g.Go(func() error { return telemetry.Run(ctx) })
	return g.Wait()
}

func (s *Source) registerOnce(ctx context.Context) (string, error) {
	reg := s.Registration
	if s.DockerVersion != nil && reg.DockerAPIVersion == "" {
		v, api, err := s.DockerVersion(ctx)
		if err != nil {
			return "", err
		}
		reg.DockerVersion, reg.DockerAPIVersion = v, api
	}
	s.dockerVersion = reg.DockerVersion
	return Register(ctx, s.Client, s.Store, reg)
}

func (s *Source) register(ctx context.Context) (string, error) {
	backoff := time.Second
	for {
		arn, err := s.registerOnce(ctx)
		var perm *PermanentError
		switch {
		case err == nil:
			return arn, nil
		case errors.As(err, &perm):
			return "", err
		case ctx.Err() != nil:
			return "", nil
		}
		s.Log.Info("registration failed; retrying", "error", err.Error(), "retryIn", backoff.String())
		select {
		case <-ctx.Done():
			return "", nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxPollBackoff)
	}
}
