// Package deps pins the modules the agent is built from while packages that
// use them are written; it is removed once every import is real.
package deps

import (
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/go-logr/zapr"
	_ "github.com/moby/moby/api/types/container"
	_ "github.com/moby/moby/api/types/events"
	_ "github.com/moby/moby/client"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/spf13/cobra"
	_ "go.etcd.io/bbolt"
	_ "go.uber.org/zap"
	_ "k8s.io/cli-runtime/pkg/printers"
	_ "sigs.k8s.io/controller-runtime/pkg/controller"
	_ "sigs.k8s.io/controller-runtime/pkg/metrics"
	_ "sigs.k8s.io/controller-runtime/pkg/source"
	_ "sigs.k8s.io/yaml"
)
