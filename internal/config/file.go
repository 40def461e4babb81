package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// LineError is a line of the configuration file that is not KEY=VALUE.
type LineError struct {
	File string
	Line int
	Msg  string
}

// Error implements error: "file:line: what is wrong".
func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// fileValue is one variable set in the configuration file, and where.
type fileValue struct {
	value string
	line  int
}

var keyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// parseEnvFile reads the lines of an /etc/ecs/ecs.config, which is a systemd
// EnvironmentFile (ecs-init hands it to the agent that way): KEY=VALUE,
// blank lines and lines starting with # or ; ignored, an optional "export ",
// and an optional pair of single quotes (taken literally) or double quotes
// (in which \" \\ \$ and \` are escapes) around the value. Unquoted values
// are kept as written, inner quotes included, so that unquoted JSON such as
// ECS_ENGINE_AUTH_DATA={"https://…": {…}} works as it does with the ECS
// agent. A later line for the same key wins. Every malformed line is
// reported, not just the first.
func parseEnvFile(name string, data []byte) (map[string]fileValue, []error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 BOM from Windows editors
	out := map[string]fileValue{}
	var errs []error
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimSpace(rest)
		}
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			errs = append(errs, &LineError{name, n, "expected KEY=VALUE, found no '='"})
			continue
		}
		key = strings.TrimSpace(key)
		if !keyPattern.MatchString(key) {
			// Never echo the text: a line of base64 auth data split by the
			// wrong quote lands here, and it is a secret.
			errs = append(errs, &LineError{name, n, fmt.Sprintf("the %d characters before the first '=' are not a variable name (letters, digits and _, not starting with a digit); the line is not shown, as it may hold a secret", len(key))})
			continue
		}
		value, err := unquote(strings.TrimSpace(raw))
		if err != nil {
			errs = append(errs, &LineError{name, n, fmt.Sprintf("%s: %v", key, err)})
			continue
		}
		out[key] = fileValue{value: value, line: n}
	}
	return out, errs
}

// unquote removes one pair of quotes enclosing the whole value.
func unquote(raw string) (string, error) {
	if raw == "" || (raw[0] != '\'' && raw[0] != '"') {
		return raw, nil
	}
	q := raw[0]
	var b strings.Builder
	for i := 1; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == q:
			if i != len(raw)-1 {
				return "", fmt.Errorf("text after the closing %c quote (quote the whole value, or none of it)", q)
			}
			return b.String(), nil
		case q == '"' && c == '\\' && i+1 < len(raw) && strings.IndexByte("\"\\$`", raw[i+1]) >= 0:
			i++
			b.WriteByte(raw[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("unterminated " + map[byte]string{'\'': "single", '"': "double"}[q] + " quote")
}
