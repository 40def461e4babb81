// Package logging builds the agent's logr logger: zap underneath, JSON
// lines, at the ECS agent's levels (ECS_LOGLEVEL), to stderr and, as the ECS
// agent does, also to ECS_LOGFILE, rotated hourly or by size and pruned to
// ECS_LOG_MAX_ROLL_COUNT files (lumberjack). On stderr each line starts with
// its syslog priority ("<6>") when stderr is the systemd journal, which
// journald turns into the entry's PRIORITY: `journalctl -p warning` then
// shows warnings and worse, while the line itself stays JSON.
package logging

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"gopkg.in/natefinch/lumberjack.v2"
)

// CritLevel is the ECS agent's crit: what stops the agent. zap's DPanic
// level, which does not panic in a production logger, stands in for it and
// is written "crit".
const CritLevel = zapcore.DPanicLevel

// Level maps the ECS agent's level names (crit, error, warn, info, debug)
// onto zap's; "" is info. logr's V(1) is debug.
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
		return CritLevel, nil
	}
	return 0, fmt.Errorf("ECS_LOGLEVEL=%q: not a log level (crit, error, warn, info or debug)", name)
}

// Rollover types of ECS_LOG_ROLLOVER_TYPE.
const (
	RolloverHourly = "hourly"
	RolloverSize   = "size"
)

// Options say where the log goes and at which levels; the ECS_LOG*
// variables fill them.
type Options struct {
	// Level is ECS_LOGLEVEL, stderr's level.
	Level string
	// FileLevel is ECS_LOGLEVEL_ON_INSTANCE, the file's level; "" is Level.
	FileLevel string
	// File is ECS_LOGFILE; "" writes no file.
	File string
	// Rollover is ECS_LOG_ROLLOVER_TYPE: RolloverHourly ("" too) or
	// RolloverSize.
	Rollover string
	// MaxSizeMB is ECS_LOG_MAX_FILE_SIZE_MB, for RolloverSize.
	MaxSizeMB int
	// MaxBackups is ECS_LOG_MAX_ROLL_COUNT: rotated files kept.
	MaxBackups int
	// Stderr receives the stderr log; nil is os.Stderr.
	Stderr io.Writer
	// Journal says that Stderr is the systemd journal: its lines then
	// start with their syslog priority.
	Journal bool

	// rotateEvery replaces the hour of RolloverHourly, for tests.
	rotateEvery time.Duration
}

// New returns the logger and a function that flushes and closes it. The
// file's directory is made (0750) when missing.
func New(opts Options) (logr.Logger, func(), error) {
	lvl, err := Level(opts.Level)
	if err != nil {
		return logr.Discard(), func() {}, err
	}
	stderr := opts.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	var enc zapcore.Encoder = zapcore.NewJSONEncoder(encoderConfig())
	if opts.Journal {
		enc = journalEncoder{enc}
	}
	cores := []zapcore.Core{zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(stderr)), lvl)}
	closeFile := func() {}
	if opts.File != "" {
		core, closer, err := fileCore(opts, lvl)
		if err != nil {
			return logr.Discard(), func() {}, err
		}
		cores, closeFile = append(cores, core), closer
	}
	z := zap.New(zapcore.NewTee(cores...), zap.AddCaller())
	return zapr.NewLogger(z), func() { _ = z.Sync(); closeFile() }, nil
}

// fileCore writes the ECS_LOGFILE file through lumberjack, which rotates
// it by size and prunes old files; hourly rotation is a timer on top.
func fileCore(opts Options, stderrLevel zapcore.Level) (zapcore.Core, func(), error) {
	lvl := stderrLevel
	if opts.FileLevel != "" {
		l, err := Level(opts.FileLevel)
		if err != nil {
			return nil, nil, fmt.Errorf("ECS_LOGLEVEL_ON_INSTANCE: %w", err)
		}
		lvl = l
	}
	if err := os.MkdirAll(filepath.Dir(opts.File), 0o750); err != nil {
		return nil, nil, fmt.Errorf("ECS_LOGFILE=%q: %w", opts.File, err)
	}
	// Open once now, so that a file the agent cannot write stops it at
	// start-up with the path, not at its first line.
	f, err := os.OpenFile(opts.File, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("ECS_LOGFILE=%q: %w", opts.File, err)
	}
	f.Close()
	lj := &lumberjack.Logger{Filename: opts.File, MaxBackups: max(opts.MaxBackups, 1)}
	stop := func() {}
	switch opts.Rollover {
	case RolloverSize:
		lj.MaxSize = max(opts.MaxSizeMB, 1)
	case RolloverHourly, "":
		// Size never rotates an hourly log; lumberjack's default would
		// at 100 MB, so set its ceiling out of reach.
		lj.MaxSize = 1 << 20
		stop = rotateHourly(lj, opts.rotateEvery)
	default:
		return nil, nil, fmt.Errorf("ECS_LOG_ROLLOVER_TYPE=%q: not hourly or size", opts.Rollover)
	}
	core := zapcore.NewCore(zapcore.NewJSONEncoder(encoderConfig()), zapcore.AddSync(lj), lvl)
	return core, func() { stop(); _ = lj.Close() }, nil
}

// rotateHourly rotates the file at the start of every hour (every `every`
// when set) until the returned function is called.
func rotateHourly(lj *lumberjack.Logger, every time.Duration) func() {
	next := func() time.Duration {
		if every > 0 {
			return every
		}
		now := time.Now()
		return now.Truncate(time.Hour).Add(time.Hour).Sub(now)
	}
	var mu sync.Mutex
	stopped := false
	var timer *time.Timer
	var rotate func()
	rotate = func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		_ = lj.Rotate()
		timer = time.AfterFunc(next(), rotate)
	}
	mu.Lock()
	timer = time.AfterFunc(next(), rotate)
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		timer.Stop()
	}
}

func encoderConfig() zapcore.EncoderConfig {
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "time"
	enc.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	enc.EncodeLevel = levelName
	return enc
}

// levelName writes the ECS agent's level names.
func levelName(l zapcore.Level, enc zapcore.PrimitiveArrayEncoder) {
	if l >= CritLevel {
		enc.AppendString("crit")
		return
	}
	enc.AppendString(l.String())
}

// Crit logs what stops the agent at the crit level, which ECS_LOGLEVEL=crit
// still shows; logr itself has no level above error.
func Crit(log logr.Logger, err error, msg string, keysAndValues ...any) {
	logAt(log, CritLevel, msg, append([]any{"error", err.Error()}, keysAndValues...)...)
}

// Warn logs at the warn level, which logr lacks: something is off but the
// agent carries on (an ignored setting, a failed pull with a fallback).
// ECS_LOGLEVEL=warn shows it and hides info.
func Warn(log logr.Logger, msg string, keysAndValues ...any) {
	logAt(log, zapcore.WarnLevel, msg, keysAndValues...)
}

// logAt logs through the zap logger under log, keeping its name and
// values, and names Crit's or Warn's caller as the caller.
func logAt(log logr.Logger, lvl zapcore.Level, msg string, keysAndValues ...any) {
	u, ok := log.GetSink().(zapr.Underlier)
	if !ok {
		log.Info(msg, keysAndValues...)
		return
	}
	u.GetUnderlying().WithOptions(zap.AddCallerSkip(1)).Sugar().Logw(lvl, msg, keysAndValues...)
}
