package config

import "strings"

// Redacted returns the effective configuration, variable name to value as
// it would be written, with secrets as "<redacted>" ("" when unset). It
// includes ECS_CONFIG_FILE, the file that was read.
func (c *Config) Redacted() map[string]string {
	m := make(map[string]string, len(variables)+1)
	for _, v := range variables {
		m[v.name] = v.format(c)
	}
	m[envConfigFile] = c.ConfigFile
	return m
}

// LogValues returns the effective configuration as logr key/value pairs in
// the variables' documented order, secrets redacted, for the start-up log
// line: log.Info("configuration", cfg.LogValues()...).
func (c *Config) LogValues() []any {
	kv := make([]any, 0, 2*len(variables)+2)
	kv = append(kv, envConfigFile, c.ConfigFile)
	for _, v := range variables {
		kv = append(kv, v.name, v.format(c))
	}
	return kv
}

// String returns the effective configuration as NAME=value lines, secrets
// redacted.
func (c *Config) String() string {
	var b strings.Builder
	b.WriteString(envConfigFile + "=" + c.ConfigFile + "\n")
	for _, v := range variables {
		b.WriteString(v.name + "=" + v.format(c) + "\n")
	}
	return b.String()
}
