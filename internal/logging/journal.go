package logging

import (
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// journalEncoder starts each line with its syslog priority, "<N>", as
// sd-daemon(3) describes for services that log to stderr: journald strips
// the prefix and records the entry at that priority.
type journalEncoder struct{ zapcore.Encoder }

var lines = buffer.NewPool()

func (e journalEncoder) Clone() zapcore.Encoder { return journalEncoder{e.Encoder.Clone()} }

func (e journalEncoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	line, err := e.Encoder.EncodeEntry(ent, fields)
	if err != nil {
		return nil, err
	}
	defer line.Free()
	out := lines.Get()
	out.AppendString(priority(ent.Level))
	_, _ = out.Write(line.Bytes())
	return out, nil
}

// priority is the sd-daemon prefix of a level: crit 2, error 3, warning 4,
// info 6, debug 7.
func priority(l zapcore.Level) string {
	switch {
	case l >= CritLevel:
		return "<2>"
	case l >= zapcore.ErrorLevel:
		return "<3>"
	case l >= zapcore.WarnLevel:
		return "<4>"
	case l >= zapcore.InfoLevel:
		return "<6>"
	}
	return "<7>"
}
