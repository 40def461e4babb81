// Package agent assembles the daemon that `ecs-agent run` starts: the store,
// the Docker state, the reconcilers, the task sources and the local
// endpoints, started in that order and stopped in reverse.
//
// Stopping the agent never stops a task: the containers keep running and the
// next agent adopts them through their ECS labels.
package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/util/rand"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/controllers"
	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/controlplane"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/events"
	"github.com/ecs-agent/ecs-agent/internal/introspection"
	"github.com/ecs-agent/ecs-agent/internal/localserver"
	"github.com/ecs-agent/ecs-agent/internal/logging"
	"github.com/ecs-agent/ecs-agent/internal/ports"
	"github.com/ecs-agent/ecs-agent/internal/registryauth"
	"github.com/ecs-agent/ecs-agent/internal/secrets"
	"github.com/ecs-agent/ecs-agent/internal/static"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/systemd"
	"github.com/ecs-agent/ecs-agent/internal/version"
)

// Mode names, as the start-up log line says them.
const (
	ModeOffline = "offline"
	ModeECS     = "ecs"
)

// Run runs the agent until ctx ends or a part of it fails.
func Run(ctx context.Context, cfg *config.Config, log logr.Logger) error {
	ctrllog.SetLogger(log)
	if cfg.Offline {
		log.Info("ecs-agent starting in offline mode: static tasks only, no ECS control plane",
			"version", version.Version, "mode", ModeOffline, "introspection", introspectionAddr(cfg))
	} else {
		log.Info("ecs-agent starting: ECS tasks and static tasks",
			"version", version.Version, "mode", ModeECS, "cluster", cfg.Cluster, "introspection", introspectionAddr(cfg))
	}
	log.Info("configuration", cfg.LogValues()...)
	for k, v := range cfg.SDKEnv {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("export %s from %s for the AWS SDK: %w", k, cfg.ConfigFile, err)
		}
	}
	for _, w := range cfg.Warnings {
		logging.Warn(log, "configuration warning", "warning", w)
	}

	// Bind the local endpoint first: a second agent on the same ports must
	// fail before it touches the store or Docker.
	lis, err := net.Listen("tcp", introspectionAddr(cfg))
	if err != nil {
		return fmt.Errorf("listen for the introspection API on %s (ECS_INTROSPECTION_PORT=%d): %w", introspectionAddr(cfg), cfg.IntrospectionPort, err)
	}
	defer lis.Close()
	mdLis, err := net.Listen("tcp", metadataAddr(cfg))
	if err != nil {
		return fmt.Errorf("listen for the task metadata endpoint on %s (ECS_TASK_METADATA_PORT=%d): %w", metadataAddr(cfg), cfg.TaskMetadataPort, err)
	}
	defer mdLis.Close()
	ecs, err := ecsClient(ctx, cfg)
	if err != nil {
		return err
	}

	st, err := store.Open(cfg.DBPath(), store.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("open the agent's store (ECS_DATADIR=%s): %w", cfg.DataDir, err)
	}
	defer st.Close()
	if ecs == nil {
		if err := registerOffline(ctx, st, cfg); err != nil {
			return err
		}
	}

	docker, err := dockerstate.New(dockerstate.Options{Host: cfg.DockerHost, PullTimeout: cfg.ImagePullTimeout, PullInactivityTimeout: cfg.ImagePullInactivityTimeout, Log: log.WithName("docker")})
	if err != nil {
		return fmt.Errorf("docker client (DOCKER_HOST=%q): %w", cfg.DockerHost, err)
	}
	recorder := events.NewRecorder(st, log.WithName("events"))
	// Task roles' credentials live here, in memory only.
	holder := credentials.NewHolder()
	secretReader := &secrets.Reader{Config: awsConfig(ecs, cfg), Role: func(roleArn string) aws.CredentialsProvider {
		return holder.RoleProvider(apiv1.RoleTypeExecution, roleArn)
	}}
	registryAuth := registryauth.FromConfig(cfg, awsConfig(ecs, cfg), executionRole(holder), secretReader)
	dyn := cfg.DynamicHostPortRange
	alloc := ports.New(st, ports.Options{
		Dynamic: ports.Range{Start: int32(dyn.Start), End: int32(dyn.End)},
		// The agent's own ports too, whatever ECS_RESERVED_PORTS says.
		ReservedTCP: int32s(append(slices.Clone(cfg.ReservedPorts), cfg.IntrospectionPort, cfg.TaskMetadataPort)),
		ReservedUDP: int32s(cfg.ReservedPortsUDP),
	})
	set := &controllers.Set{
		Store:  st,
		Docker: docker,
		Log:    log.WithName("controllers"),
		Tasks: &controllers.TaskReconciler{
			Store: st, Docker: docker, Ports: alloc, Events: recorder, Now: time.Now,
			Cgroups: taskCgroups(cfg, docker),
			Opts: controllers.TaskOptions{
				Cluster:           cfg.Cluster,
				StopTimeout:       cfg.ContainerStopTimeout,
				CleanupWait:       cfg.TaskCleanupWaitDuration,
				DisablePrivileged: cfg.DisablePrivileged,
				LoggingDrivers:    cfg.AvailableLoggingDrivers,
				SELinuxCapable:    cfg.SELinuxCapable,
				AppArmorCapable:   cfg.AppArmorCapable,
				PullBehavior:      cfg.ImagePullBehavior,

				Region:                 agentRegion(ecs, cfg),
				TaskIAMRole:            cfg.TaskIAMRoleEnabled,
				TaskIAMRoleNetworkHost: cfg.TaskIAMRoleEnabledForNetworkHost,
			},
			Credentials: holder,
			Secrets:     secretReader,
		},
		Images: &controllers.ImageReconciler{Store: st, Docker: docker, Events: recorder, Now: time.Now, Auth: registryAuth,
			Opts: controllers.ImageOptions{PullBehavior: cfg.ImagePullBehavior}},
		Ports: &controllers.PortReconciler{Store: st},
		Credentials: &controllers.CredentialsReconciler{
			Store: st, Holder: holder, Events: recorder, Now: time.Now,
			STS: &credentials.STS{Config: awsConfig(ecs, cfg)},
		},
		CredentialsChanges: holder,
		TaskWorkers:        max(8, 4*runtime.NumCPU()),
		// A pull runs inside the images reconciler, bounded by its own
		// timeout; anything else is bounded by Docker's call timeouts.
		StuckAfter: map[string]time.Duration{"image": cfg.ImagePullTimeout + controllers.DefaultStuckAfter},
	}
	if !cfg.ImageCleanupDisabled {
		set.ImageCleanup = imageCleanup(cfg, st, docker, recorder)
	}
	var stats *dockerstate.Stats
	if !cfg.DisableMetrics {
		stats = dockerstate.NewStats(docker)
	}
	var ecsSrc *controlplane.Source
	if ecs != nil {
		ecsSrc = ecsSource(ecs, cfg, st, docker, set, holder, log.WithName("ecs"))
		ecsSrc.RuntimeDownSince = docker.DownSince
		if stats != nil {
			ecsSrc.Usage = usage{stats}
		}
	}
	boot, err := static.ReadBoot()
	if err != nil {
		// Without it a reboot is not told apart: static tasks it stopped
		// stay stopped until their files change.
		log.Error(err, "cannot tell host reboots apart; static tasks lost to one will not be replaced")
	}
	src := &static.Source{
		Dir: cfg.StaticTasksDir, Store: st, Cluster: cfg.Cluster,
		Log: log.WithName("static"), Boot: boot, DaemonOutages: daemonOutages(docker),
	}
	ready := func() error {
		switch {
		case !docker.Synced():
			return errors.New("docker state not synced yet")
		case !set.Started():
			return errors.New("controllers not started yet")
		case !src.Synced():
			return errors.New("static task files not loaded yet")
		}
		return ecsReady(ecsSrc)
	}
	intro := introspection.New(introspectionOptions(cfg, st, ready, stats, log.WithName("introspection")))
	srv := localserver.New(intro.Handler())

	// Watch streams never end by themselves; shutdown must end them.
	srv.RegisterOnShutdown(intro.CloseWatches)
	md := taskMetadata(cfg, st, holder, docker, stats, log.WithName("taskmetadata"))

	g, ctx := errgroup.WithContext(ctx)
	notifier := &systemd.Notifier{Ready: ready, Healthy: set.Healthy, Log: log.WithName("systemd")}
	g.Go(func() error { return docker.Run(ctx) })
	g.Go(func() error { return notifier.Run(ctx) })
	g.Go(func() error { recorder.Run(ctx); return nil })
	g.Go(func() error { return set.Run(ctx) })
	g.Go(func() error { return src.Run(ctx) })
	if stats != nil {
		g.Go(func() error { return stats.Run(ctx) })
	}
	g.Go(func() error { return md.run(ctx, mdLis) })
	if ecsSrc != nil {
		g.Go(func() error { return ecsSrc.Run(ctx) })
	}
	g.Go(func() error {
		if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("introspection API: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("ecs-agent stopped; tasks keep running", "error", errString(err))
	return err
}

func introspectionAddr(cfg *config.Config) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.IntrospectionPort))
}

func metadataAddr(cfg *config.Config) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.TaskMetadataPort))
}

// registerOffline records this host as a container instance that no control
// plane knows of. Its ARN is made once and kept, like a registered one.
func registerOffline(ctx context.Context, st store.Store, cfg *config.Config) error {
	var ci apiv1.ContainerInstance
	err := st.Get(ctx, apiv1.ContainerInstanceName, &ci)
	switch {
	case errors.Is(err, store.ErrNotFound):
		ci.Name = apiv1.ContainerInstanceName
	case err != nil:
		return fmt.Errorf("read container instance: %w", err)
	}
	if ci.Status.Arn == "" {
		ci.Status.Arn = fmt.Sprintf("arn:aws:ecs:%s:%s:container-instance/%s/%s", static.DefaultRegion, static.DefaultAccount, cfg.Cluster, rand.String(32))
		ci.Status.RegisteredAt = nowMicro()
	}
	ci.Status.Status = "OFFLINE"
	reg := registration(cfg)
	ci.Spec = apiv1.ContainerInstanceSpec{
		Cluster: reg.Cluster, CPU: reg.CPU, Memory: reg.Memory,
		Ports: reg.Ports, PortsUDP: reg.PortsUDP, Attributes: reg.Attributes,
	}
	if ci.ResourceVersion == "" {
		err = st.Create(ctx, &ci)
	} else {
		err = st.Update(ctx, &ci)
	}
	if err != nil {
		return fmt.Errorf("record container instance: %w", err)
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func int32s[T ~int | ~int32 | ~uint16](in []T) []int32 {
	out := make([]int32, 0, len(in))
	for _, v := range in {
		out = append(out, int32(v))
	}
	return out
}

// imageCleanup builds the image cleanup controller from ECS_IMAGE_CLEANUP_*,
// ECS_NUM_IMAGES_DELETE_PER_CYCLE and ECS_EXCLUDE_UNTRACKED_IMAGE.
func imageCleanup(cfg *config.Config, st store.Store, docker controllers.ImageCleanupDocker, rec controllers.Recorder) *controllers.ImageCleanupReconciler {
	return &controllers.ImageCleanupReconciler{
		Store: st, Docker: docker, Events: rec, Now: time.Now,
		Interval:        cfg.ImageCleanupInterval,
		MinimumAge:      cfg.ImageMinimumCleanupAge,
		PerCycle:        cfg.NumImagesToDeletePerCycle,
		Exclude:         cfg.ExcludeUntrackedImages,
		DiskHighPercent: cfg.ImageCleanupHighThresholdPercent,
		DiskLowPercent:  cfg.ImageCleanupLowThresholdPercent,
	}
}

// daemonOutages hands the static source the Docker daemon's outages in its
// own terms.
func daemonOutages(docker *dockerstate.Docker) func() []static.Outage {
	return func() []static.Outage {
		var out []static.Outage
		for _, o := range docker.Outages() {
			out = append(out, static.Outage{Lost: o.Lost, Back: o.Back})
		}
		return out
	}
}
