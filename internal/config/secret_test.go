package config

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const leak = "hunter2-s3cr3t"

func TestSecretNeverPrintsItsValue(t *testing.T) {
	s := NewSecret(leak)
	type holder struct {
		Name string
		Pass Secret
		Ptr  *Secret
	}
	h := holder{Name: "x", Pass: s, Ptr: &s}
	outputs := map[string]string{
		"%v":         fmt.Sprintf("%v", s),
		"%+v":        fmt.Sprintf("%+v", s),
		"%#v":        fmt.Sprintf("%#v", s),
		"%s":         fmt.Sprintf("%s", s),
		"%q":         fmt.Sprintf("%q", s),
		"%x":         fmt.Sprintf("%x", s),
		"%d":         fmt.Sprintf("%d", s),
		"String":     s.String(),
		"struct %v":  fmt.Sprintf("%v", h),
		"struct %+v": fmt.Sprintf("%+v", h),
		"struct %#v": fmt.Sprintf("%#v", h),
		"pointer":    fmt.Sprintf("%v", &s),
		"slog":       slog.StringValue(s.LogValue().String()).String(),
	}
	js, _ := json.Marshal(h)
	outputs["json"] = string(js)
	txt, _ := s.MarshalText()
	outputs["text"] = string(txt)
	for how, out := range outputs {
		if strings.Contains(out, leak) {
			t.Errorf("%s leaks the secret: %s", how, out)
		}
		// encoding/json escapes < and > as \u003c and \u003e.
		if !strings.Contains(out, Redacted) && !strings.Contains(out, `\u003credacted\u003e`) {
			t.Errorf("%s does not say %s: %s", how, Redacted, out)
		}
	}
	if s.Reveal() != leak || !s.IsSet() {
		t.Error("Reveal lost the value")
	}
	if NewSecret("").String() != "" || NewSecret("").IsSet() {
		t.Error("an unset secret should print as empty")
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	auth := fmt.Sprintf(`{"https://index.docker.io/v1/":{"username":"me","password":%q}}`, leak)
	c := mustLoad(t, []string{
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=" + leak,
		"AWS_SESSION_TOKEN=" + leak,
		"ECS_ENGINE_AUTH_TYPE=docker",
		"ECS_ENGINE_AUTH_DATA=" + auth,
	}, "")
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"String":    c.String(),
		"%v":        fmt.Sprintf("%v", c),
		"%+v value": fmt.Sprintf("%+v", *c),
		"%#v value": fmt.Sprintf("%#v", *c),
		"json":      string(js),
		"LogValues": fmt.Sprint(c.LogValues()...),
		"Redacted":  fmt.Sprint(c.Redacted()),
	}
	for how, out := range outputs {
		if strings.Contains(out, leak) {
			t.Errorf("%s leaks a secret: %s", how, out)
		}
	}
	r := c.Redacted()
	for _, name := range []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "ECS_ENGINE_AUTH_DATA"} {
		if r[name] != Redacted {
			t.Errorf("%s shows as %q, want %s", name, r[name], Redacted)
		}
	}
	if r["AWS_ACCESS_KEY_ID"] != "AKIDEXAMPLE" {
		t.Errorf("the access key id is not a secret: shows as %q", r["AWS_ACCESS_KEY_ID"])
	}
	// The values are still there for those who need them.
	if c.SecretAccessKey.Reveal() != leak || c.EngineAuth["https://index.docker.io/v1/"].Password.Reveal() != leak {
		t.Error("secrets lost")
	}
	kv := c.LogValues()
	if len(kv)%2 != 0 || kv[0] != "ECS_CONFIG_FILE" {
		t.Errorf("LogValues is not key/value pairs: %v", kv)
	}
}

func TestEngineAuthDataIsCheckedAgainstItsType(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, authType, data string
		want                 map[string]string // registry -> username
		wantErr              string
	}{
		{"docker", "docker", fmt.Sprintf(`{"https://index.docker.io/v1/":{"username":"me","password":%q,"email":"me@example.com"}}`, leak),
			map[string]string{"https://index.docker.io/v1/": "me"}, ""},
		{"docker with auth instead", "docker", fmt.Sprintf(`{"r.example.com":{"auth":%q}}`, b64("me:"+leak)),
			map[string]string{"r.example.com": "me"}, ""},
		{"dockercfg", "dockercfg", fmt.Sprintf(`{"https://quay.io":{"auth":%q,"email":"x"}}`, b64("me:"+leak)),
			map[string]string{"https://quay.io": "me"}, ""},
		{"dockercfg robot username", "dockercfg", fmt.Sprintf(`{"https://quay.io":{"auth":%q,"username":"robot"}}`, b64("tok:"+leak)),
			map[string]string{"https://quay.io": "robot"}, ""},
		{"type is case-insensitive", "DockerCfg", fmt.Sprintf(`{"q":{"auth":%q}}`, b64("me:"+leak)),
			map[string]string{"q": "me"}, ""},
		{"not JSON", "docker", "user=" + leak,
			nil, `ECS_ENGINE_AUTH_DATA=<redacted>: not a JSON object of registries (e.g. {"https://index.docker.io/v1/": {"username": "me", "password": "…", "email": "me@example.com"}}): syntax error at byte 1 (for ECS_ENGINE_AUTH_TYPE=docker)`},
		{"docker without password", "docker", `{"r":{"username":"me"}}`,
			nil, `ECS_ENGINE_AUTH_DATA=<redacted>: registry "r": needs both "username" and "password" (for ECS_ENGINE_AUTH_TYPE=docker)`},
		{"dockercfg without auth", "dockercfg", fmt.Sprintf(`{"r":{"username":"me","password":%q}}`, leak),
			nil, `registry "r": no "auth" (base64 of user:password)`},
		{"dockercfg auth not base64", "dockercfg", `{"r":{"auth":"` + leak + `!"}}`,
			nil, `registry "r": "auth" is not base64`},
		{"dockercfg auth without colon", "dockercfg", fmt.Sprintf(`{"r":{"auth":%q}}`, b64(leak)),
			nil, `registry "r": "auth" does not decode to user:password`},
		{"entry not an object", "docker", fmt.Sprintf(`{"r":%q}`, leak),
			nil, `registry "r": not an object of strings`},
		{"whole config.json", "dockercfg", fmt.Sprintf(`{"auths":{"r":{"auth":%q}}}`, b64("me:"+leak)),
			nil, `holds a whole config.json ("auths": …): give the contents of its "auths" object instead`},
		{"empty registry", "docker", fmt.Sprintf(`{"":{"username":"me","password":%q}}`, leak),
			nil, "an empty registry name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeConfig(t, "ECS_ENGINE_AUTH_TYPE="+tt.authType+"\nECS_ENGINE_AUTH_DATA="+tt.data+"\n")
			c, err := testLoader(t).Load(nil, file)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v\nwant %s", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), file+":2: ") {
					t.Errorf("error does not name the line: %v", err)
				}
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error leaks the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.EngineAuth) != len(tt.want) {
				t.Fatalf("EngineAuth has %d registries, want %d", len(c.EngineAuth), len(tt.want))
			}
			for reg, user := range tt.want {
				got := c.EngineAuth[reg]
				if got.Username != user || got.Password.Reveal() != leak {
					t.Errorf("registry %s: user %q password set %v", reg, got.Username, got.Password.IsSet())
				}
			}
		})
	}
}
