// Package supportbundle writes one archive for a bug report, the way the
// Amazon ECS logs collector gathers one: the agent's version, its
// configuration with secrets redacted, its objects and recent events (task
// environment values redacted), Docker's info and version, the agent's
// metrics, and the last lines of its log. A part that cannot be gathered
// is left out and named, with the reason, in errors.txt; the bundle is
// still written.
//
// No secret value goes in: secret configuration values print redacted,
// task environment values are replaced in the objects, and then every file
// is scrubbed of the secret values and environment values the command
// knows of, so that a value that found its way into a log line or an event
// does not leave the host either.
package supportbundle

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/config"
	"github.com/ecs-agent/ecs-agent/internal/introspection"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Docker is what the bundle asks the Docker daemon; *dockerstate.Docker is
// one.
type Docker interface {
	InfoJSON(ctx context.Context) ([]byte, error)
	VersionJSON(ctx context.Context) ([]byte, error)
}

// Sources are where a bundle's parts come from. A nil source leaves its
// part out.
type Sources struct {
	// Version is the version of the command making the bundle
	// (version.Details).
	Version string
	// Config is the configuration as this command loads it (environment
	// and configuration file, as the agent does).
	Config *config.Config
	// ConfigErr is why the configuration did not load, if it did not.
	ConfigErr error
	// Objects lists one kind of the agent's objects: from the running
	// agent, or from its store when it is stopped.
	Objects func(ctx context.Context, res introspection.Resource) (store.ObjectList, error)
	// ObjectsFrom says where Objects reads ("the agent at …").
	ObjectsFrom string
	// Docker is the Docker daemon.
	Docker Docker
	// Metrics returns the running agent's /metrics.
	Metrics func(ctx context.Context) ([]byte, error)
	// Log returns the last lines of the agent's log and where they come
	// from.
	Log func(ctx context.Context) (lines []byte, from string, err error)
	// Now is when the bundle is made.
	Now time.Time
}

// part is one file of the bundle.
type part struct {
	name string
	data []byte
}

// Write gathers the bundle and writes it to w as a gzipped tar whose files
// sit under dir/. It returns the names of the files written; an error
// means the archive itself could not be written.
func Write(ctx context.Context, w io.Writer, dir string, src Sources) ([]string, error) {
	b := &builder{notes: []string{}}
	b.add("version.txt", []byte(src.Version), nil)
	cfgText, err := configText(src.Config, src.ConfigErr)
	b.add("config.txt", cfgText, err)

	// The objects are read first: the scrubber needs the environment
	// values they hold before they are redacted.
	lists := map[string]store.ObjectList{}
	if src.Objects != nil {
		for _, res := range introspection.Resources {
			list, err := src.Objects(ctx, res)
			if err != nil {
				b.add("objects/"+res.Name+".yaml", nil, err)
				continue
			}
			lists[res.Name] = list
		}
	}
	tasks, _ := lists["tasks"].(*apiv1.TaskList)
	scrub := newScrubber(src.Config, tasks)
	if tasks != nil {
		redactTasks(tasks)
	}
	for _, res := range introspection.Resources {
		if list, ok := lists[res.Name]; ok {
			data, err := yaml.Marshal(list)
			b.add("objects/"+res.Name+".yaml", data, err)
		}
	}
	if src.ObjectsFrom != "" {
		b.note("objects read from " + src.ObjectsFrom)
	}
	if src.Docker != nil {
		info, err := src.Docker.InfoJSON(ctx)
		b.add("docker/info.json", info, err)
		version, err := src.Docker.VersionJSON(ctx)
		b.add("docker/version.json", version, err)
	}
	if src.Metrics != nil {
		metrics, err := src.Metrics(ctx)
		b.add("metrics.txt", metrics, err)
	}
	if src.Log != nil {
		lines, from, err := src.Log(ctx)
		b.add("logs/agent.log", lines, err)
		if err == nil {
			b.note("logs/agent.log: the last lines of " + from)
		}
	}
	parts := append([]part{{name: "README.txt", data: b.readme(src.Now)}}, b.parts...)
	if len(b.problems) > 0 {
		parts = append(parts, part{name: "errors.txt", data: []byte(strings.Join(b.problems, "\n") + "\n")})
	}
	return writeTarGz(w, dir, parts, scrub, src.Now)
}

// builder collects the parts, what could not be gathered and notes.
type builder struct {
	parts    []part
	problems []string
	notes    []string
}

func (b *builder) add(name string, data []byte, err error) {
	if err != nil {
		b.problems = append(b.problems, fmt.Sprintf("%s: not gathered: %v", name, err))
		return
	}
	b.parts = append(b.parts, part{name: name, data: data})
}

func (b *builder) note(s string) { b.notes = append(b.notes, s) }

func (b *builder) readme(now time.Time) []byte {
	var r strings.Builder
	fmt.Fprintf(&r, "ecs-agent support bundle, made %s by `ecs-agent support-bundle`.\n\n", now.UTC().Format(time.RFC3339))
	r.WriteString(`version.txt          the version of the ecs-agent that made the bundle, its commit, Go release, platform
config.txt           the configuration as the command loaded it (environment and config file), secrets redacted
objects/*.yaml       the agent's objects (tasks, images, host ports, events, ...), task environment values redacted
docker/*.json        docker info and docker version
metrics.txt          the agent's Prometheus metrics
logs/agent.log       the last lines of the agent's log
errors.txt           the parts that could not be gathered, and why

Secret configuration values (ECS_ENGINE_AUTH_DATA, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, registry passwords) and task environment values are
replaced by <redacted> wherever they appear in these files.
`)
	if len(b.notes) > 0 {
		r.WriteString("\n" + strings.Join(b.notes, "\n") + "\n")
	}
	return []byte(r.String())
}

// configText is the effective configuration, secrets printed redacted,
// and its warnings.
func configText(cfg *config.Config, loadErr error) ([]byte, error) {
	if cfg == nil {
		if loadErr == nil {
			loadErr = fmt.Errorf("no configuration")
		}
		return nil, loadErr
	}
	text := cfg.String()
	for _, w := range cfg.Warnings {
		text += "# warning: " + w + "\n"
	}
	return []byte(text), nil
}

// writeTarGz writes the parts, scrubbed, under dir/ in a gzipped tar.
func writeTarGz(w io.Writer, dir string, parts []part, scrub *scrubber, now time.Time) ([]string, error) {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	names := make([]string, 0, len(parts))
	for _, p := range parts {
		data := scrub.scrub(p.data)
		hdr := &tar.Header{Name: dir + "/" + p.name, Mode: 0o600, Size: int64(len(data)), ModTime: now, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return names, fmt.Errorf("write %s to the bundle: %w", p.name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return names, fmt.Errorf("write %s to the bundle: %w", p.name, err)
		}
		names = append(names, p.name)
	}
	if err := tw.Close(); err != nil {
		return names, fmt.Errorf("finish the bundle: %w", err)
	}
	if err := gz.Close(); err != nil {
		return names, fmt.Errorf("finish the bundle: %w", err)
	}
	return names, nil
}
