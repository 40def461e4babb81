// Package logging builds the agent's logr logger: zap underneath (JSON
// lines), at the level of ECS_LOGLEVEL, to stderr or ECS_LOGFILE.
package logging

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Level maps the ECS agent's level names (crit, error, warn, info, debug)
// onto zap's. logr's V(1) is debug.
func Level(name string) (zapcore.Level, error) {
	switch name {
	case "debug":
		return zapcore.DebugLevel, nil
	case "info", "":
		return zapcore.InfoLevel, nil
	case "warn":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	case "crit":
		// The ECS agent's crit only logs what stops the agent; zap's
		// closest level that still returns is DPanic's neighbour, error.
		return zapcore.ErrorLevel + 1, nil
	}
	return 0, fmt.Errorf("ECS_LOGLEVEL=%q: not a log level (crit, error, warn, info or debug)", name)
}

// New returns the logger, and a function that flushes it. An empty file
// logs to stderr; a file is appended to (created 0640, its directory 0750).
func New(level, file string) (logr.Logger, func(), error) {
	lvl, err := Level(level)
	if err != nil {
		return logr.Discard(), func() {}, err
	}
	out := zapcore.Lock(os.Stderr)
	closeFile := func() {}
	if file != "" {
		if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
			return logr.Discard(), func() {}, fmt.Errorf("ECS_LOGFILE=%q: %w", file, err)
		}
		f, err := os.OpenFile(file, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			return logr.Discard(), func() {}, fmt.Errorf("ECS_LOGFILE=%q: %w", file, err)
		}
		out = zapcore.Lock(f)
		closeFile = func() { _ = f.Close() }
	}
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "time"
	enc.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), out, lvl)
	z := zap.New(core, zap.AddCaller())
	return zapr.NewLogger(z), func() { _ = z.Sync(); closeFile() }, nil
}
