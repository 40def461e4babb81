package config

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ECS_ENGINE_AUTH_TYPE values, as the ECS agent's dockerauth package defines
// them (agent/dockerclient/dockerauth).
const (
	// AuthTypeDocker: ECS_ENGINE_AUTH_DATA is
	// {"<registry>": {"username": "…", "password": "…", "email": "…"}}.
	AuthTypeDocker = "docker"
	// AuthTypeDockerCfg: ECS_ENGINE_AUTH_DATA is the contents of the "auths"
	// object of ~/.docker/config.json (or of a legacy ~/.dockercfg):
	// {"<registry>": {"auth": "<base64 of user:password>", "email": "…"}}.
	AuthTypeDockerCfg = "dockercfg"
)

// RegistryAuth is the credentials for one registry, from
// ECS_ENGINE_AUTH_DATA, whichever ECS_ENGINE_AUTH_TYPE it was written in.
type RegistryAuth struct {
	Username string
	Password Secret
	Email    string
}

// authEntry is one registry's object in either auth data shape.
type authEntry struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Auth     string `json:"auth"`
	Email    string `json:"email"`
}

// parseEngineAuth checks ECS_ENGINE_AUTH_DATA against the shape its type
// calls for and returns the credentials per registry. Its errors never
// quote the data: it holds passwords.
func parseEngineAuth(authType, data string) (map[string]RegistryAuth, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("not a JSON object of registries (e.g. %s)%s", authExample(authType), jsonWhere(err))
	}
	if _, ok := raw["auths"]; ok && len(raw) == 1 {
		return nil, errors.New(`holds a whole config.json ("auths": …): give the contents of its "auths" object instead`)
	}
	registries := make([]string, 0, len(raw))
	for r := range raw {
		registries = append(registries, r)
	}
	sort.Strings(registries)

	out := make(map[string]RegistryAuth, len(raw))
	var errs []error
	for _, registry := range registries {
		if strings.TrimSpace(registry) == "" {
			errs = append(errs, errors.New("an empty registry name"))
			continue
		}
		auth, err := parseAuthEntry(authType, raw[registry])
		if err != nil {
			errs = append(errs, fmt.Errorf("registry %q: %w", registry, err))
			continue
		}
		out[registry] = auth
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func parseAuthEntry(authType string, msg json.RawMessage) (RegistryAuth, error) {
	var e authEntry
	dec := json.NewDecoder(bytes.NewReader(msg))
	if err := dec.Decode(&e); err != nil || bytes.Equal(bytes.TrimSpace(msg), []byte("null")) {
		return RegistryAuth{}, fmt.Errorf("not an object of strings (e.g. %s)", authExample(authType))
	}
	switch authType {
	case AuthTypeDockerCfg:
		if e.Auth == "" {
			return RegistryAuth{}, errors.New(`no "auth" (base64 of user:password)`)
		}
		user, pass, err := decodeAuth(e.Auth)
		if err != nil {
			return RegistryAuth{}, err
		}
		// Robot accounts (quay.io) carry a username beside the token.
		if e.Username != "" {
			user = e.Username
		}
		return RegistryAuth{Username: user, Password: NewSecret(pass), Email: e.Email}, nil
	default: // AuthTypeDocker
		if e.Username == "" && e.Password == "" && e.Auth != "" {
			user, pass, err := decodeAuth(e.Auth)
			if err != nil {
				return RegistryAuth{}, err
			}
			return RegistryAuth{Username: user, Password: NewSecret(pass), Email: e.Email}, nil
		}
		if e.Username == "" || e.Password == "" {
			return RegistryAuth{}, errors.New(`needs both "username" and "password"`)
		}
		return RegistryAuth{Username: e.Username, Password: NewSecret(e.Password), Email: e.Email}, nil
	}
}

func decodeAuth(auth string) (user, pass string, err error) {
	b, err := base64.StdEncoding.DecodeString(auth)
	if err != nil {
		return "", "", errors.New(`"auth" is not base64`)
	}
	user, pass, ok := strings.Cut(string(b), ":")
	if !ok || user == "" {
		return "", "", errors.New(`"auth" does not decode to user:password`)
	}
	return user, pass, nil
}

func authExample(authType string) string {
	if authType == AuthTypeDockerCfg {
		return `{"https://index.docker.io/v1/": {"auth": "<base64 user:password>", "email": "me@example.com"}}`
	}
	return `{"https://index.docker.io/v1/": {"username": "me", "password": "…", "email": "me@example.com"}}`
}

// jsonWhere says where JSON parsing stopped, without quoting the input
// (encoding/json's messages quote the offending character).
func jsonWhere(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf(": syntax error at byte %d", syn.Offset)
	}
	return ""
}
