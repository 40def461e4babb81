package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
	"github.com/ecs-agent/ecs-agent/internal/introspection"
	"github.com/ecs-agent/ecs-agent/internal/store"
	"github.com/ecs-agent/ecs-agent/internal/supportbundle"
	"github.com/ecs-agent/ecs-agent/internal/version"
)

// journalUnit is the systemd unit config/ecs-agent.service installs.
const journalUnit = "ecs-agent.service"

func newSupportBundleCommand(o *options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "support-bundle",
		Short: "Write one archive for a bug report: version, configuration, objects, events, docker info, metrics, last log lines",
		Long: "Write a .tar.gz to attach to a bug report, as the ECS logs collector gathers one: the\n" +
			"version, the configuration with secrets redacted, the agent's objects and recent events\n" +
			"(task environment values redacted), docker info and version, the agent's metrics and\n" +
			"the last lines of its log (ECS_LOGFILE, else the journal). Works with the agent stopped\n" +
			"too (objects from its store; no metrics). Parts that cannot be gathered are named in\n" +
			"errors.txt inside the archive.",
		Example: "  sudo ecs-agent support-bundle\n  docker exec ecs-agent /ecs-agent support-bundle -o /log/support.tar.gz",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSupportBundle(cmd.Context(), o, output, time.Now(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "the archive to write (default ./ecs-agent-support-<UTC time>.tar.gz)")
	o.addFlags(cmd)
	return cmd
}

func runSupportBundle(ctx context.Context, o *options, output string, now time.Time, out, stderr io.Writer) error {
	stamp := now.UTC().Format("20060102T150405Z")
	if output == "" {
		output = "ecs-agent-support-" + stamp + ".tar.gz"
	}
	src := supportbundle.Sources{Version: version.Details(), Now: now}
	cfg, err := config.Load(o.env(), o.configFile)
	src.Config, src.ConfigErr = cfg, err
	if err == nil {
		src.Log = supportbundle.JournalLog(journalUnit, supportbundle.LogLines)
		if cfg.LogFile != "" {
			src.Log = supportbundle.FileLog(cfg.LogFile, supportbundle.LogLines)
		}
		if d, err := dockerstate.New(dockerstate.Options{Host: cfg.DockerHost}); err == nil {
			defer d.Close()
			src.Docker = d
		}
	}
	agent, err := o.connect(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "warning: the bundle has no objects: %v\n", err)
	} else {
		defer agent.close()
		src.ObjectsFrom = agent.where()
		src.Objects = func(ctx context.Context, res introspection.Resource) (store.ObjectList, error) {
			return agent.list(ctx, res, introspection.EventFilter{})
		}
		if a, ok := agent.(*agentClient); ok {
			src.Metrics = a.metrics
		}
	}

	f, err := os.OpenFile(output, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("support bundle: %w", err)
	}
	dir := strings.TrimSuffix(filepath.Base(output), ".tar.gz")
	names, err := supportbundle.Write(ctx, f, dir, src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(output)
		return fmt.Errorf("support bundle %s: %w", output, err)
	}
	fmt.Fprintf(out, "wrote %s: %s\n", output, strings.Join(names, ", "))
	return nil
}
