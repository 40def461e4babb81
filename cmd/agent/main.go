// Command ecs-agent is the ECS container agent. `ecs-agent run` is the
// daemon; `ecs-agent get` and `ecs-agent describe` are its debug CLI, which
// reads the agent's objects through the running agent or, when it is
// stopped, straight from its store; `ecs-agent top` shows the running
// agent's latest CPU and memory samples; `ecs-agent support-bundle` gathers a
// bug report's archive; `ecs-agent version` and `ecs-agent completion`
// are what their names say.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ecs-agent/ecs-agent/internal/agent"
	"github.com/ecs-agent/ecs-agent/internal/cli"
	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/controlplane"
	"github.com/ecs-agent/ecs-agent/internal/logging"
	"github.com/ecs-agent/ecs-agent/internal/systemd"
	"github.com/ecs-agent/ecs-agent/internal/version"
)

// exitTerminal is the exit status of a failure that a restart cannot fix
// (the ECS agent's ExitTerminal).
const exitTerminal = 5

func main() {
	root := &cobra.Command{
		Use:           "ecs-agent",
		Short:         "Amazon ECS container agent, as reconcilers over Docker",
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(runCommand(), versionCommand(), setupHostCommand())
	cli.AddCommands(root)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "ecs-agent:", err)
		var terminal *controlplane.PermanentError
		if errors.As(err, &terminal) {
			// No restart can fix it: the systemd unit does not restart on
			// this status (RestartPreventExitStatus), as ecs-init does not
			// for the ECS agent's.
			os.Exit(exitTerminal)
		}
		os.Exit(1)
	}
}

func runCommand() *cobra.Command {
	var configFile string
	var reregister bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the agent (the daemon)",
		Long: "Run the agent until SIGTERM or SIGINT. Configuration comes from ECS_* environment\n" +
			"variables and /etc/ecs/ecs.config (the environment wins). Stopping the agent leaves\n" +
			"its tasks running; the next start adopts them.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			setGCPercent()
			cfg, err := config.Load(os.Environ(), configFile)
			if err != nil {
				return err
			}
			cfg.Reregister = reregister
			log, flush, err := logging.New(logging.Options{
				Level: cfg.LogLevel, FileLevel: cfg.LogLevelOnInstance, File: cfg.LogFile,
				Rollover: cfg.LogRolloverType, MaxSizeMB: cfg.LogMaxFileSizeMB, MaxBackups: cfg.LogMaxRollCount,
				Journal: systemd.StderrIsJournal(),
			})
			if err != nil {
				return err
			}
			defer flush()
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			if err := agent.Run(ctx, cfg, log); err != nil {
				logging.Crit(log, err, "ecs-agent failed")
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "configuration file (default $ECS_CONFIG_FILE or "+config.DefaultFile+")")
	cmd.Flags().BoolVar(&reregister, "reregister", false, "register with ECS as a new container instance instead of reusing the stored ARN (after the instance was deregistered)")
	return cmd
}

// defaultGCPercent is the daemon's GOGC unless the environment sets one.
// Most of its live heap (about 8 MiB with 200 tasks) is package state that
// never changes: the AWS SDK's service schemas, the Kubernetes scheme that
// controller-runtime registers. Go's default of 100 lets the heap grow to
// twice that before collecting: the idle agent with 200 tasks kept 52.7
// MiB resident at 100, 50.8-52.2 at 50 and 47.5 at 25. 25 costs more CPU
// while many tasks start (a 100-task burst: 1.07x raw Docker against 1.04x
// at 50, in the same minutes) and nothing measurable when idle (0.150 % of
// a core either way): docs/performance.md, P3.
const defaultGCPercent = 25

func setGCPercent() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the agent's version, commit, Go release and platform",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprint(cmd.OutOrStdout(), version.Details())
		},
	}
}
