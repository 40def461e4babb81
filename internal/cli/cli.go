// Package cli is the agent's debug CLI: `ecs-agent get`, `ecs-agent
// describe` and `ecs-agent top`, with kubectl's habits (-o wide|json|yaml,
// --watch).
//
// It asks the running agent over its introspection port (127.0.0.1 only).
// When nothing answers there it reads the agent's bbolt file directly,
// read-only: the post-mortem view of a stopped agent. bbolt's file lock
// keeps the two from mixing: while the agent runs, the file cannot be
// opened, so a locked file with a silent port is reported as exactly that.
//
// Nothing printed here carries secret values or credentials. The store
// holds no credentials (they live in memory only) and secrets only as
// references, but it does hold the values of the task definition's
// environment, Docker labels and log options, which the agent needs to
// create the containers again: those are shown as apiv1.HiddenValue, here
// and by the agent API alike.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

const (
	// pingTimeout is how long the agent has to answer before the CLI
	// looks at the store file instead.
	pingTimeout = time.Second
	// requestTimeout bounds one list request to the agent.
	requestTimeout = 10 * time.Second
	// lockTimeout is how long to wait for the store file's lock: the
	// agent holds it for its whole life, so waiting longer never helps.
	lockTimeout = 500 * time.Millisecond
)

// options are the flags shared by every verb, and how to find the agent.
type options struct {
	configFile string
	dataDir    string
	port       int
	env        func() []string
}

// AddCommands adds the debug verbs (get, describe, top, support-bundle) to root.
func AddCommands(root *cobra.Command) {
	addCommands(root, os.Environ)
}

func addCommands(root *cobra.Command, env func() []string) {
	o := &options{env: env}
	root.AddCommand(newGetCommand(o), newDescribeCommand(o), newTopCommand(o), newSupportBundleCommand(o))
}

// addFlags adds the flags that locate the agent to a verb.
func (o *options) addFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.configFile, "config", "", "agent configuration file (default $ECS_CONFIG_FILE or "+config.DefaultFile+")")
	f.StringVar(&o.dataDir, "data-dir", "", "the agent's data directory, for reading its store when it is stopped (default ECS_DATADIR or "+config.DefaultDataDir+")")
	f.IntVar(&o.port, "introspection-port", 0, fmt.Sprintf("the agent's introspection port on 127.0.0.1 (default ECS_INTROSPECTION_PORT or %d)", config.DefaultIntrospectionPort))
}

// target is where the agent should be.
type target struct {
	port   int
	dbPath string
}

// resolve applies the flags over the agent's configuration. A
// configuration that does not load (a bad value the agent itself would
// refuse) must not keep the CLI from looking at the agent: it warns and
// goes on with the defaults.
func (o *options) resolve(stderr io.Writer) target {
	dataDir, port := config.DefaultDataDir, config.DefaultIntrospectionPort
	cfg, err := config.Load(o.env(), o.configFile)
	if err != nil {
		fmt.Fprintf(stderr, "warning: agent configuration: %v; using defaults and flags\n", err)
	} else {
		dataDir, port = cfg.DataDir, cfg.IntrospectionPort
	}
	if o.dataDir != "" {
		dataDir = o.dataDir
	}
	if o.port != 0 {
		port = o.port
	}
	c := config.Config{DataDir: dataDir}
	return target{port: port, dbPath: c.DBPath()}
}

// connect finds the agent: the running one over HTTP, else its store file.
func (o *options) connect(ctx context.Context, stderr io.Writer) (source, error) {
	t := o.resolve(stderr)
	agent := newAgentClient(t.port)
	pingErr := agent.ping(ctx)
	if pingErr == nil {
		return agent, nil
	}
	st, err := store.Open(t.dbPath, store.Options{ReadOnly: true, LockTimeout: lockTimeout})
	switch {
	case err == nil:
		fmt.Fprintf(stderr, "The agent does not answer on 127.0.0.1:%d; reading its store %s directly (state as of when it stopped).\n", t.port, t.dbPath)
		return &storeSource{store: st}, nil
	case errors.Is(err, store.ErrLocked):
		return nil, fmt.Errorf("the agent's store %s is locked, so the agent (or another process) is running, "+
			"but nothing answers on 127.0.0.1:%d (%v): check --introspection-port (ECS_INTROSPECTION_PORT) "+
			"or whether the agent is stuck", t.dbPath, t.port, pingErr)
	default:
		return nil, fmt.Errorf("no agent answers on 127.0.0.1:%d (%v), and its store cannot be read: %w "+
			"(use --data-dir or --introspection-port if the agent is configured differently)", t.port, pingErr, err)
	}
}
