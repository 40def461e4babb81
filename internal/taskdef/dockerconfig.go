package taskdef

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DockerConfig is a container's dockerConfig in an ACS task payload: the
// container settings the control plane sends as Docker Engine API JSON
// (container.Config and container.HostConfig, each a JSON string) rather
// than as task definition fields.
type DockerConfig struct {
	Version    string `json:"version,omitempty"`
	Config     string `json:"config,omitempty"`
	HostConfig string `json:"hostConfig,omitempty"`
}

// Fields turns the dockerConfig into the task definition fields it stands
// for (register-task-definition's JSON names: hostname, logConfiguration,
// linuxParameters, …), so that an ACS container goes through Parse, the
// rules every static file and polled ECS task follows. A setting that has
// no task definition field, or whose value cannot be one, is a problem
// naming it (dockerConfig.hostConfig.MemorySwap): nothing in dockerConfig
// is dropped silently. A key whose value is empty (false, 0, "", null, an
// empty list or object) sets nothing and is accepted.
func (d DockerConfig) Fields() (map[string]any, error) {
	out := map[string]any{}
	var ps problems
	for _, part := range []struct {
		name, doc string
		keys      map[string]dockerKey
	}{{"config", d.Config, configKeys}, {"hostConfig", d.HostConfig, hostConfigKeys}} {
		if strings.TrimSpace(part.doc) == "" {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(part.doc), &m); err != nil {
			ps.add("dockerConfig."+part.name, "", "is not a JSON object: %v", err)
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			path := "dockerConfig." + part.name + "." + k
			if empty(m[k]) {
				continue
			}
			key, ok := part.keys[k]
			if !ok {
				ps.add(path, "", "is not a setting this agent applies; no task definition field sets it")
				continue
			}
			if err := key(out, m[k]); err != nil {
				ps.add(path, asWritten(m[k]), "%v", err)
			}
		}
	}
	if len(ps) > 0 {
		return nil, &InvalidError{File: "dockerConfig", Problems: ps}
	}
	return out, nil
}

// asWritten shows a JSON value as it was written, shortened.
func asWritten(raw json.RawMessage) string {
	const max = 60
	if len(raw) > max {
		return string(raw[:max]) + "…"
	}
	return string(raw)
}

// A dockerKey sets the task definition fields one Docker setting stands for.
type dockerKey func(out map[string]any, raw json.RawMessage) error

func empty(raw json.RawMessage) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case float64:
		return v == 0
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// elsewhere refuses a Docker setting that a payload carries in another
// field, saying which.
func elsewhere(why string) dockerKey {
	return func(map[string]any, json.RawMessage) error { return fmt.Errorf("%s", why) }
}

// same copies the value under the task definition's name.
func same(field string) dockerKey {
	return func(out map[string]any, raw json.RawMessage) error {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		out[field] = v
		return nil
	}
}

// linux sets a field of linuxParameters.
func linux(out map[string]any, field string, v any) {
	lp, _ := out["linuxParameters"].(map[string]any)
	if lp == nil {
		lp = map[string]any{}
		out["linuxParameters"] = lp
	}
	lp[field] = v
}

func decodeStrict[T any](raw json.RawMessage) (T, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(&v)
	return v, err
}

// mib turns bytes into whole MiB, as task definitions count memory.
func mib(b int64) (int64, error) {
	if b%(1<<20) != 0 {
		return 0, fmt.Errorf("is not a whole number of MiB, which task definitions count in")
	}
	return b >> 20, nil
}

func bytesToMiB(field string, inLinux bool) dockerKey {
	return func(out map[string]any, raw json.RawMessage) error {
		b, err := decodeStrict[int64](raw)
		if err != nil {
			return err
		}
		m, err := mib(b)
		if err != nil {
			return err
		}
		if inLinux {
			linux(out, field, m)
		} else {
			out[field] = m
		}
		return nil
	}
}

func seconds(d time.Duration) (int64, error) {
	if d%time.Second != 0 {
		return 0, fmt.Errorf("%s is not a whole number of seconds, which task definitions count in", d)
	}
	return int64(d / time.Second), nil
}

var configKeys = map[string]dockerKey{
	"Hostname":        same("hostname"),
	"User":            same("user"),
	"WorkingDir":      same("workingDirectory"),
	"Labels":          same("dockerLabels"),
	"Cmd":             same("command"),
	"Entrypoint":      same("entryPoint"),
	"Tty":             same("pseudoTerminal"),
	"OpenStdin":       same("interactive"),
	"NetworkDisabled": same("disableNetworking"),
	"StopTimeout":     same("stopTimeout"),
	"Env": func(out map[string]any, raw json.RawMessage) error {
		env, err := decodeStrict[[]string](raw)
		if err != nil {
			return err
		}
		var kvs []any
		for _, e := range env {
			k, v, _ := strings.Cut(e, "=")
			kvs = append(kvs, map[string]any{"name": k, "value": v})
		}
		out["environment"] = kvs
		return nil
	},
	"Healthcheck": func(out map[string]any, raw json.RawMessage) error {
		hc, err := decodeStrict[struct {
			Test                           []string
			Interval, Timeout, StartPeriod time.Duration
			StartInterval                  time.Duration
			Retries                        int
		}](raw)
		if err != nil {
			return err
		}
		if hc.StartInterval != 0 {
			return fmt.Errorf("StartInterval has no task definition field")
		}
		h := map[string]any{"command": hc.Test}
		for name, d := range map[string]time.Duration{"interval": hc.Interval, "timeout": hc.Timeout, "startPeriod": hc.StartPeriod} {
			if d == 0 {
				continue
			}
			s, err := seconds(d)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			h[name] = s
		}
		if hc.Retries != 0 {
			h["retries"] = hc.Retries
		}
		out["healthCheck"] = h
		return nil
	},
	// Exposed ports are image metadata; what is published comes from the
	// task's portMappings.
	"ExposedPorts": func(map[string]any, json.RawMessage) error { return nil },
}

var hostConfigKeys = map[string]dockerKey{
	"Privileged":        same("privileged"),
	"ReadonlyRootfs":    same("readonlyRootFilesystem"),
	"Dns":               same("dnsServers"),
	"DnsSearch":         same("dnsSearchDomains"),
	"Links":             same("links"),
	"Memory":            bytesToMiB("memory", false),
	"MemoryReservation": bytesToMiB("memoryReservation", false),
	"CpuShares":         same("cpu"),
	"ShmSize":           bytesToMiB("sharedMemorySize", true),
	"MemorySwap":        elsewhere("counts memory and swap together; the swap is linuxParameters.maxSwap"),
	"NetworkMode":       elsewhere("is the task's networkMode"),
	"PidMode":           elsewhere("is the task's pidMode"),
	"IpcMode":           elsewhere("is the task's ipcMode"),
	"LogConfig": func(out map[string]any, raw json.RawMessage) error {
		lc, err := decodeStrict[struct {
			Type   string
			Config map[string]string
		}](raw)
		if err != nil {
			return err
		}
		l := map[string]any{"logDriver": lc.Type}
		if len(lc.Config) > 0 {
			l["options"] = lc.Config
		}
		out["logConfiguration"] = l
		return nil
	},
	"Ulimits": func(out map[string]any, raw json.RawMessage) error {
		us, err := decodeStrict[[]struct {
			Name       string
			Soft, Hard int64
		}](raw)
		if err != nil {
			return err
		}
		var list []any
		for _, u := range us {
			list = append(list, map[string]any{"name": u.Name, "softLimit": u.Soft, "hardLimit": u.Hard})
		}
		out["ulimits"] = list
		return nil
	},
	"ExtraHosts": func(out map[string]any, raw json.RawMessage) error {
		hosts, err := decodeStrict[[]string](raw)
		if err != nil {
			return err
		}
		var list []any
		for _, h := range hosts {
			name, ip, ok := strings.Cut(h, ":")
			if !ok {
				return fmt.Errorf("%q is not host:address", h)
			}
			list = append(list, map[string]any{"hostname": name, "ipAddress": ip})
		}
		out["extraHosts"] = list
		return nil
	},
	"SecurityOpt": func(out map[string]any, raw json.RawMessage) error {
		opts, err := decodeStrict[[]string](raw)
		if err != nil {
			return err
		}
		// Docker writes label=… and apparmor=…, task definitions label:…
		var list []any
		for _, o := range opts {
			k, v, ok := strings.Cut(o, "=")
			if ok && (k == "label" || k == "apparmor") {
				o = k + ":" + v
			}
			list = append(list, o)
		}
		out["dockerSecurityOptions"] = list
		return nil
	},
	"Sysctls": func(out map[string]any, raw json.RawMessage) error {
		m, err := decodeStrict[map[string]string](raw)
		if err != nil {
			return err
		}
		var list []any
		for _, k := range slices.Sorted(maps.Keys(m)) {
			list = append(list, map[string]any{"namespace": k, "value": m[k]})
		}
		out["systemControls"] = list
		return nil
	},
	"CapAdd":  capabilitiesKey("add"),
	"CapDrop": capabilitiesKey("drop"),
	"Init": func(out map[string]any, raw json.RawMessage) error {
		v, err := decodeStrict[bool](raw)
		linux(out, "initProcessEnabled", v)
		return err
	},
	"MemorySwappiness": func(out map[string]any, raw json.RawMessage) error {
		v, err := decodeStrict[int64](raw)
		linux(out, "swappiness", v)
		return err
	},
	"Devices": func(out map[string]any, raw json.RawMessage) error {
		ds, err := decodeStrict[[]struct{ PathOnHost, PathInContainer, CgroupPermissions string }](raw)
		if err != nil {
			return err
		}
		var list []any
		for _, d := range ds {
			var perms []any
			for flag, name := range map[rune]string{'r': "read", 'w': "write", 'm': "mknod"} {
				if strings.ContainsRune(d.CgroupPermissions, flag) {
					perms = append(perms, name)
				}
			}
			slices.SortFunc(perms, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
			list = append(list, map[string]any{"hostPath": d.PathOnHost, "containerPath": d.PathInContainer, "permissions": perms})
		}
		linux(out, "devices", list)
		return nil
	},
	"Tmpfs": func(out map[string]any, raw json.RawMessage) error {
		m, err := decodeStrict[map[string]string](raw)
		if err != nil {
			return err
		}
		var list []any
		for _, path := range slices.Sorted(maps.Keys(m)) {
			t := map[string]any{"containerPath": path}
			var opts []any
			for _, o := range strings.Split(m[path], ",") {
				if s, ok := strings.CutPrefix(o, "size="); ok {
					size, err := tmpfsMiB(s)
					if err != nil {
						return fmt.Errorf("%s: %w", path, err)
					}
					t["size"] = size
				} else if o != "" {
					opts = append(opts, o)
				}
			}
			if len(opts) > 0 {
				t["mountOptions"] = opts
			}
			list = append(list, t)
		}
		linux(out, "tmpfs", list)
		return nil
	},
}

func capabilitiesKey(which string) dockerKey {
	return func(out map[string]any, raw json.RawMessage) error {
		caps, err := decodeStrict[[]string](raw)
		if err != nil {
			return err
		}
		var list []any
		for _, c := range caps {
			list = append(list, strings.TrimPrefix(c, "CAP_"))
		}
		lp, _ := out["linuxParameters"].(map[string]any)
		cp, _ := lp["capabilities"].(map[string]any)
		if cp == nil {
			cp = map[string]any{}
			linux(out, "capabilities", cp)
		}
		cp[which] = list
		return nil
	}
}

// tmpfsMiB reads a tmpfs size option (bytes, or with k, m or g) as whole
// MiB, the unit of a task definition's tmpfs size.
func tmpfsMiB(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1<<10, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		mult, s = 1<<20, strings.TrimSuffix(s, "m")
	case strings.HasSuffix(s, "g"):
		mult, s = 1<<30, strings.TrimSuffix(s, "g")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q is not a number of bytes", s)
	}
	return mib(n * mult)
}
