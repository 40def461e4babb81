package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/hostsetup"
)

func setupHostCommand() *cobra.Command {
	var configFile string
	var undo bool
	cmd := &cobra.Command{
		Use:   "setup-host",
		Short: "Install (or with --undo remove) the host rules that let tasks reach 169.254.170.2",
		Long: "As root, make the agent's directories and install ecs-init's host setup: route_localnet,\n" +
			"the DNAT and REDIRECT of 169.254.170.2:80 to 127.0.0.1:ECS_TASK_METADATA_PORT, the rule that\n" +
			"drops off-host packets for 127.0.0.0/8 (unless ECS_SKIP_LOCALHOST_TRAFFIC_FILTER=true) and the\n" +
			"rules that keep other hosts off ECS_INTROSPECTION_PORT (unless\n" +
			"ECS_ALLOW_OFFHOST_INTROSPECTION_ACCESS=true). Only what is missing is added, so it may run\n" +
			"before every start. --undo deletes exactly those rules and restores route_localnet.\n" +
			"Configuration is read as `ecs-agent run` reads it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(os.Environ(), configFile)
			if err != nil {
				return err
			}
			if os.Geteuid() != 0 {
				return errors.New("setup-host changes iptables and sysctls: run it as root")
			}
			host, err := hostsetup.ThisHost()
			if err != nil {
				return err
			}
			opts := hostsetup.Options{
				MetadataPort:              cfg.TaskMetadataPort,
				IntrospectionPort:         cfg.IntrospectionPort,
				SkipLocalhostFilter:       cfg.SkipLocalhostTrafficFilter,
				AllowOffhostIntrospection: cfg.AllowOffhostIntrospectionAccess,
				DockerBridge:              hostsetup.DockerBridge(),
			}
			var done []string
			if undo {
				done, err = hostsetup.Undo(host, opts)
			} else {
				for _, dir := range []string{cfg.DataDir, cfg.StaticTasksDir} {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						return fmt.Errorf("make the agent's directory %s: %w", dir, err)
					}
				}
				done, err = hostsetup.Install(host, opts)
			}
			out := cmd.OutOrStdout()
			for _, line := range done {
				fmt.Fprintln(out, line)
			}
			if err == nil && len(done) == 0 {
				fmt.Fprintln(out, "nothing to do")
			}
			return err
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "configuration file (default $ECS_CONFIG_FILE or "+config.DefaultFile+")")
	cmd.Flags().BoolVar(&undo, "undo", false, "remove the rules instead, and restore route_localnet")
	return cmd
}
