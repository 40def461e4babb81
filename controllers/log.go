package controllers

import "github.com/go-logr/logr"

// lifecycleMessages are controller-runtime's per-controller start and stop
// lines (pkg/internal/controller). With five controllers and their sources
// they made about 30 info lines per start and stop; the set logs one line
// of its own instead, and these go to debug.
var lifecycleMessages = map[string]bool{
	"Starting EventSource": true,
	"Starting Controller":  true,
	"Starting workers":     true,
	"Shutdown signal received, waiting for all workers to finish": true,
	"All workers finished": true,
}

// quietLifecycle returns log with controller-runtime's lifecycle lines
// demoted to V(1); everything else, the reconcilers' own lines included,
// passes unchanged.
func quietLifecycle(log logr.Logger) logr.Logger {
	sink := log.GetSink()
	if sink == nil {
		return log
	}
	// quietSink.Info is one more frame between the caller and the sink.
	if d, ok := sink.(logr.CallDepthLogSink); ok {
		sink = d.WithCallDepth(1)
	}
	return logr.New(quietSink{sink})
}

type quietSink struct{ logr.LogSink }

// Init does nothing: the wrapped sink was initialised by its own logger,
// and zapr's Init would add the call depth to that shared sink again.
func (quietSink) Init(logr.RuntimeInfo) {}

func (s quietSink) Info(level int, msg string, keysAndValues ...any) {
	if level == 0 && lifecycleMessages[msg] {
		level = 1
		if !s.LogSink.Enabled(level) {
			return
		}
	}
	s.LogSink.Info(level, msg, keysAndValues...)
}

func (s quietSink) WithValues(keysAndValues ...any) logr.LogSink {
	return quietSink{s.LogSink.WithValues(keysAndValues...)}
}

func (s quietSink) WithName(name string) logr.LogSink {
	return quietSink{s.LogSink.WithName(name)}
}

// WithCallDepth keeps the caller right when the sink supports it.
func (s quietSink) WithCallDepth(depth int) logr.LogSink {
	if d, ok := s.LogSink.(logr.CallDepthLogSink); ok {
		return quietSink{d.WithCallDepth(depth)}
	}
	return s
}
