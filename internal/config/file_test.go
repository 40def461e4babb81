package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestEnvFileAcceptsSystemdEnvironmentFileSyntax(t *testing.T) {
	tests := []struct {
		name string
		file string
		want map[string]string
	}{
		{"plain", "ECS_CLUSTER=prod\n", map[string]string{"ECS_CLUSTER": "prod"}},
		{"comments and blank lines", "# a comment\n\n  ; another\n\t\nECS_CLUSTER=prod\n", map[string]string{"ECS_CLUSTER": "prod"}},
		{"export prefix", "export ECS_CLUSTER=prod\nexport\tECS_LOGLEVEL=debug\n", map[string]string{"ECS_CLUSTER": "prod", "ECS_LOGLEVEL": "debug"}},
		{"a variable called exportX is not an export", "exportX=1\n", map[string]string{"exportX": "1"}},
		{"spaces around key and value", "  ECS_CLUSTER =  prod  \n", map[string]string{"ECS_CLUSTER": "prod"}},
		{"double quotes", `ECS_CLUSTER="prod"`, map[string]string{"ECS_CLUSTER": "prod"}},
		{"single quotes", `ECS_CLUSTER='prod'`, map[string]string{"ECS_CLUSTER": "prod"}},
		{"double quotes keep inner spaces", `X="  a b  "`, map[string]string{"X": "  a b  "}},
		{"escapes in double quotes", `X="say \"hi\" \\ \$HOME"`, map[string]string{"X": `say "hi" \ $HOME`}},
		{"other backslashes in double quotes are literal", `X="a\nb"`, map[string]string{"X": `a\nb`}},
		{"single quotes are literal", `X='a\"b'`, map[string]string{"X": `a\"b`}},
		{"unquoted JSON keeps its quotes", `ECS_INSTANCE_ATTRIBUTES={"stack": "prod"}`, map[string]string{"ECS_INSTANCE_ATTRIBUTES": `{"stack": "prod"}`}},
		{"single-quoted JSON", `ECS_INSTANCE_ATTRIBUTES='{"stack": "prod"}'`, map[string]string{"ECS_INSTANCE_ATTRIBUTES": `{"stack": "prod"}`}},
		{"value with =", "X=a=b\n", map[string]string{"X": "a=b"}},
		{"empty value", "X=\n", map[string]string{"X": ""}},
		{"empty quoted value", `X=""`, map[string]string{"X": ""}},
		{"hash inside a value is not a comment", "X=a#b\n", map[string]string{"X": "a#b"}},
		{"CRLF line ends", "A=1\r\nB=2\r\n", map[string]string{"A": "1", "B": "2"}},
		{"UTF-8 BOM", "\xef\xbb\xbfA=1\n", map[string]string{"A": "1"}},
		{"later line wins", "A=1\nA=2\n", map[string]string{"A": "2"}},
		{"no trailing newline", "A=1", map[string]string{"A": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := parseEnvFile("ecs.config", []byte(tt.file))
			if len(errs) != 0 {
				t.Fatalf("errors: %v", errs)
			}
			values := map[string]string{}
			for k, v := range got {
				values[k] = v.value
			}
			if !reflect.DeepEqual(values, tt.want) {
				t.Errorf("got %q, want %q", values, tt.want)
			}
		})
	}
}

func TestEnvFileReportsEveryMalformedLineWithFileAndLine(t *testing.T) {
	file := "A=1\n" +
		"just words\n" + // 2
		"1BAD=x\n" + // 3
		`B="unterminated` + "\n" + // 4
		`C='also` + "\n" + // 5
		`D="x" trailing` + "\n" + // 6
		"=nokey\n" + // 7
		"E=fine\n"
	got, errs := parseEnvFile("/etc/ecs/ecs.config", []byte(file))
	want := []string{
		"/etc/ecs/ecs.config:2: expected KEY=VALUE, found no '='",
		"/etc/ecs/ecs.config:3: the 4 characters before the first '=' are not a variable name (letters, digits and _, not starting with a digit); the line is not shown, as it may hold a secret",
		"/etc/ecs/ecs.config:4: B: unterminated double quote",
		"/etc/ecs/ecs.config:5: C: unterminated single quote",
		`/etc/ecs/ecs.config:6: D: text after the closing " quote (quote the whole value, or none of it)`,
		"/etc/ecs/ecs.config:7: the 0 characters before the first '=' are not a variable name (letters, digits and _, not starting with a digit); the line is not shown, as it may hold a secret",
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(want))
	}
	for i, err := range errs {
		if err.Error() != want[i] {
			t.Errorf("error %d = %q, want %q", i, err, want[i])
		}
		var le *LineError
		if !errors.As(err, &le) {
			t.Errorf("error %d is %T, want *LineError", i, err)
		}
	}
	if got["A"].value != "1" || got["E"].value != "fine" || got["E"].line != 8 {
		t.Errorf("good lines around bad ones: got %+v", got)
	}
}

// A line of auth data that lost its key (a quote in the wrong place) is
// reported by line number only: none of its text is echoed.
func TestMalformedLineNeverEchoesItsText(t *testing.T) {
	secret := "c2VjcmV0L3Bhc3N3b3Jk+/cGFzc3dvcmQgaXMgaGVyZQ"
	_, errs := parseEnvFile("/etc/ecs/ecs.config", []byte(secret+"==\n"))
	if len(errs) != 1 {
		t.Fatalf("errors %v, want 1", errs)
	}
	for _, part := range []string{secret[:8], secret[len(secret)-8:]} {
		if strings.Contains(errs[0].Error(), part) {
			t.Fatalf("error %q echoes the line's text %q", errs[0], part)
		}
	}
}
