package agent

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/go-logr/logr"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/controllers"
	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/controlplane"
	"github.com/ecs-agent/ecs-agent/internal/credentials"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/tcs"
	"github.com/ecs-agent/ecs-agent/internal/version"
)

// ecsClient connects to ECS unless the agent runs offline (nil then). A
// missing region fails here, before anything else starts, with an error
// that names ECS_OFFLINE.
func ecsClient(ctx context.Context, cfg *config.Config) (*controlplane.Client, error) {
	if cfg.Offline {
		return nil, nil
	}
	c, err := controlplane.NewClient(ctx, clientOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("connect to ECS (ECS_CLUSTER=%s): %w", cfg.Cluster, err)
	}
	return c, nil
}

func clientOptions(cfg *config.Config) controlplane.ClientOptions {
	return controlplane.ClientOptions{
		Region:          cfg.Region,
		AccessKeyID:     cfg.AccessKeyID,
		SecretAccessKey: cfg.SecretAccessKey.Reveal(),
		SessionToken:    cfg.SessionToken.Reveal(),
		BackendHost:     cfg.BackendHost,
	}
}

// awsConfig is the AWS configuration ECR token requests use: the ECS
// client's, loaded once, when the agent has one; else (offline) loaded on
// each request, so that an offline agent that pulls no ECR image never
// reads AWS configuration.
func awsConfig(c *controlplane.Client, cfg *config.Config) func(context.Context) (aws.Config, error) {
	if c != nil {
		return func(context.Context) (aws.Config, error) { return c.AWS, nil }
	}
	return func(ctx context.Context) (aws.Config, error) {
		return controlplane.LoadAWSConfig(ctx, clientOptions(cfg))
	}
}

// agentRegion is the region tasks are told: the ECS client's, which may
// come from the instance metadata service, else the configured one.
func agentRegion(c *controlplane.Client, cfg *config.Config) string {
	if c != nil {
		return c.Region
	}
	return cfg.Region
}

// executionRole gives ECR token requests a task's execution role
// credentials, from the holder: the role's credentials are held before the
// task asks for its images (the tasks reconciler waits for them).
func executionRole(h *credentials.Holder) func(context.Context, string) (aws.CredentialsProvider, error) {
	return func(_ context.Context, roleArn string) (aws.CredentialsProvider, error) {
		if _, ok := h.ForRole(apiv1.RoleTypeExecution, roleArn); !ok {
			return nil, fmt.Errorf("no credentials held for execution role %s", roleArn)
		}
		return h.RoleProvider(apiv1.RoleTypeExecution, roleArn), nil
	}
}

// The reporter declares what it needs of the control plane; the ECS source
// provides it without importing the reconcilers.
var _ controllers.StateSubmitter = (*controlplane.Submitter)(nil)

// dockerVersion is what registration asks of Docker: the daemon's version,
// which the control plane turns into capabilities.
type dockerVersion interface {
	Version(ctx context.Context) (dockerstate.Version, error)
}

// ecsSource builds the ECS task source and wires the state reporter into
// the controllers.
func ecsSource(c *controlplane.Client, cfg *config.Config, st store.Store, docker dockerVersion, set *controllers.Set, holder controlplane.CredentialsHolder, log logr.Logger) *controlplane.Source {
	set.Reporter = &controllers.ReportReconciler{
		Store:     st,
		Submitter: &controlplane.Submitter{Client: c, Log: log.WithName("report")},
	}
	return &controlplane.Source{
		Client: c, Store: st, Interval: cfg.PollInterval, Log: log,
		Registration: registration(cfg),
		// Task role credentials from ACS, in memory only.
		Credentials: holder,
		DockerVersion: func(ctx context.Context) (string, string, error) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			v, err := docker.Version(ctx)
			return v.Version, v.APIVersion, err
		},
	}
}

// registration is what this host registers with: resources and
// capabilities. Offline, the container instance shows the same resources.
func registration(cfg *config.Config) controlplane.Registration {
	return controlplane.Registration{
		Cluster:           cfg.Cluster,
		CPU:               int64(runtime.NumCPU()) * 1024,
		Memory:            hostMemoryMiB() - cfg.ReservedMemory,
		Ports:             int32s(cfg.ReservedPorts),
		PortsUDP:          int32s(cfg.ReservedPortsUDP),
		AgentVersion:      version.Version,
		LoggingDrivers:    cfg.AvailableLoggingDrivers,
		DisablePrivileged: cfg.DisablePrivileged,
		TaskIAMRole:       cfg.TaskIAMRoleEnabled,
		TaskIAMRoleHost:   cfg.TaskIAMRoleEnabledForNetworkHost,
		SELinux:           cfg.SELinuxCapable,
		AppArmor:          cfg.AppArmorCapable,
		Attributes:        cfg.InstanceAttributes,
		Tags:              cfg.ContainerInstanceTags,
		New:               cfg.Reregister,
	}
}

// ecsReady is the ECS part of readiness: registered with the cluster.
func ecsReady(src *controlplane.Source) error {
	if src != nil && !src.Registered() {
		return errors.New("not registered with ECS yet")
	}
	return nil
}

// usage hands the stats sampler's figures to telemetry in its own terms.
type usage struct{ stats *dockerstate.Stats }

func (u usage) Drain(dockerID string) (cpu, memoryMiB tcs.StatsSet, ok bool) {
	got, ok := u.stats.Drain(dockerID)
	return statsSet(got.CPUPercent), statsSet(got.MemoryMiB), ok
}

func statsSet(s dockerstate.StatsSet) tcs.StatsSet {
	return tcs.StatsSet{Min: s.Min, Max: s.Max, SampleCount: int64(s.Count), Sum: s.Sum}
}
