package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Redacted is what a set Secret prints as, everywhere.
const Redacted = "<redacted>"

// Secret holds a value that must never reach a log, an error message, the
// CLI's output or the store: registry passwords, AWS secret keys, session
// tokens. Its value is unexported so that fmt (which prints unexported
// fields without calling their methods) cannot reach it through a struct,
// and every way of printing or encoding it (String, Format, MarshalJSON,
// MarshalText, LogValue) gives Redacted. An unset Secret prints as "" so the
// start-up log still tells "not set" from "set".
//
// Use Reveal only where the value leaves the process for the party that
// needs it (the Docker daemon's pull auth, the AWS SDK's credentials).
type Secret struct {
	value string
}

// NewSecret wraps v.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the secret value itself.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret has a non-empty value.
func (s Secret) IsSet() bool { return s.value != "" }

// String returns Redacted, or "" when the secret is not set.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return Redacted
}

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %q,
// %x, %d, …) prints the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s.String())
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// MarshalJSON implements json.Marshaler: a JSON string with the redacted
// form. There is deliberately no UnmarshalJSON: a redacted dump must never be
// read back as if it held the secret.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText implements encoding.TextMarshaler, for encoders (log fields,
// map keys) that prefer text to JSON.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

var (
	_ fmt.Stringer   = Secret{}
	_ fmt.Formatter  = Secret{}
	_ json.Marshaler = Secret{}
	_ slog.LogValuer = Secret{}
)
