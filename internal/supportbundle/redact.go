package supportbundle

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/config"
)

// Redacted replaces every value the bundle leaves out.
const Redacted = "<redacted>"

// minScrubbed is the shortest task environment value scrubbed from free
// text (logs, events, metrics, docker info). Shorter values ("1", "true",
// "prod") would blot out half the words of a log without hiding anything;
// they are still removed from the task objects themselves.
const minScrubbed = 6

// redactTasks replaces the values of the tasks' environment variables;
// their names stay, since which variables a container had is often the
// clue. Secrets are references (valueFrom) and carry no value.
func redactTasks(list *apiv1.TaskList) {
	for i := range list.Items {
		cs := list.Items[i].Spec.Containers
		for j := range cs {
			for k := range cs[j].Environment {
				cs[j].Environment[k].Value = Redacted
			}
		}
	}
}

// scrubber removes known secret values from text, wherever they appear:
// as they are, and as JSON escapes them inside a log line.
type scrubber struct {
	values []string // longest first, so a value is not half-replaced by a shorter one inside it
}

// newScrubber collects the values no part of the bundle may carry: the
// configuration's secrets and registry credentials, and the tasks'
// environment values.
func newScrubber(cfg *config.Config, tasks *apiv1.TaskList) *scrubber {
	set := map[string]bool{}
	add := func(v string, minLen int) {
		if len(v) < minLen {
			return
		}
		set[v] = true
		// Inside a JSON log line, escaped as zap does (HTML left alone)
		// and as encoding/json does by default.
		for _, html := range []bool{false, true} {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(html)
			if enc.Encode(v) == nil {
				esc := strings.TrimSuffix(b.String(), "\n")
				set[esc[1:len(esc)-1]] = true
			}
		}
	}
	if cfg != nil {
		for _, s := range []config.Secret{cfg.EngineAuthData, cfg.SecretAccessKey, cfg.SessionToken} {
			add(s.Reveal(), 1)
		}
		for _, a := range cfg.EngineAuth {
			add(a.Password.Reveal(), 1)
			// dockercfg data carries user:password in base64.
			add(base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password.Reveal())), 1)
		}
	}
	if tasks != nil {
		for _, t := range tasks.Items {
			for _, c := range t.Spec.Containers {
				for _, kv := range c.Environment {
					add(kv.Value, minScrubbed)
				}
			}
		}
	}
	s := &scrubber{}
	for v := range set {
		s.values = append(s.values, v)
	}
	slices.SortFunc(s.values, func(a, b string) int { return len(b) - len(a) })
	return s
}

func (s *scrubber) scrub(b []byte) []byte {
	if len(s.values) == 0 {
		return b
	}
	text := string(b)
	for _, v := range s.values {
		text = strings.ReplaceAll(text, v, Redacted)
	}
	return []byte(text)
}
