package config

import (
	"errors"
	"strings"
	"testing"
)

// envFileMessages is every fixed text parseEnvFile writes; a line that
// happens to equal a piece of it is not an echo.
const envFileMessages = "expected KEY=VALUE, found no '=' the characters before the first '=' are not a variable name (letters, digits and _, not starting with a digit); the line is not shown, as it may hold a secret " +
	"text after the closing \" quote (quote the whole value, or none of it) text after the closing ' quote (quote the whole value, or none of it) unterminated single quote unterminated double quote"

// FuzzParseEnvFile holds the ecs.config reader to three properties on any
// input: every error is a *LineError naming a line of the file; no error
// shows the text of a line's value (base64 auth data lands there); and the
// values read, written back double-quoted with escapes, read the same.
func FuzzParseEnvFile(f *testing.F) {
	for _, seed := range []string{
		"ECS_CLUSTER=prod\nECS_LOGLEVEL=debug\n",
		"# comment\n; other\nexport ECS_CLUSTER='single quoted'\n",
		`ECS_ENGINE_AUTH_DATA={"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz","email":"a@b"}}` + "\n",
		"ECS_RESERVED_PORTS=\"[22, 2375]\"\r\n",
		"\xef\xbb\xbfECS_CLUSTER=bom\n",
		"dXNlcjpwYXNzd29yZA==\n",
		"ECS_X=\"unterminated\nECS_Y='a'b\n1BAD=x\n",
		"ECS_Z=\"esc \\\" \\\\ \\$ \\` \\n\"\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, errs := parseEnvFile("ecs.config", data)
		lines := strings.Split(strings.TrimPrefix(string(data), "\xef\xbb\xbf"), "\n")
		for _, err := range errs {
			checkLineError(t, err, lines)
		}
		for key, v := range got {
			if v.line < 1 || v.line > len(lines) {
				t.Fatalf("%s read from line %d of a %d-line file", key, v.line, len(lines))
			}
		}
		checkRequoted(t, got)
	})
}

func checkLineError(t *testing.T, err error, lines []string) {
	t.Helper()
	var le *LineError
	if !errors.As(err, &le) {
		t.Fatalf("error %T (%v) is not a *LineError", err, err)
	}
	if le.File != "ecs.config" || le.Line < 1 || le.Line > len(lines) {
		t.Fatalf("error names %s:%d in a %d-line ecs.config", le.File, le.Line, len(lines))
	}
	line := strings.TrimSpace(lines[le.Line-1])
	shown := line
	if _, value, ok := strings.Cut(line, "="); ok {
		// The key may be named (it is not secret); the value may not.
		shown = strings.TrimSpace(value)
	}
	if len(shown) >= 8 && strings.Contains(le.Msg, shown) && !strings.Contains(envFileMessages, shown) {
		t.Fatalf("error %q shows the text %q of line %d", le.Msg, shown, le.Line)
	}
}

// checkRequoted writes every value read as KEY="…" and reads it back.
func checkRequoted(t *testing.T, got map[string]fileValue) {
	t.Helper()
	var b strings.Builder
	for key, v := range got {
		b.WriteString(key + `="`)
		for _, c := range []byte(v.value) {
			if strings.IndexByte("\"\\$`", c) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteString("\"\n")
	}
	again, errs := parseEnvFile("again", []byte(b.String()))
	if len(errs) > 0 {
		t.Fatalf("values written back do not read: %v\n%s", errs, b.String())
	}
	if len(again) != len(got) {
		t.Fatalf("read %d values back, want %d", len(again), len(got))
	}
	for key, v := range got {
		if again[key].value != v.value {
			t.Fatalf("%s = %q read back as %q", key, v.value, again[key].value)
		}
	}
}
