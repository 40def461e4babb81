// Package registryauth finds the credentials for pulling an image, as the
// ECS agent does: a container's repositoryCredentials first, then an ECR
// token for ECR registries, then ECS_ENGINE_AUTH_DATA for the image's
// registry; anonymous when none applies.
//
// Credentials are held in memory only. Errors and Auth.Source name where
// credentials came from, never the credentials.
package registryauth

import (
	"context"
	"fmt"
	"github.com/distribution/reference"
	"strings"

	"github.com/ecs-agent/ecs-agent/internal/config"
)

// Request is what a pull needs credentials for.
type Request struct {
	// Image is the image reference as the task definition writes it.
	Image string
	// CredentialsParameter is the container's
	// repositoryCredentials.credentialsParameter, or "".
	CredentialsParameter string
	// ExecutionRoleArn is the task's execution role, or "" for the
	// instance's credentials.
	ExecutionRoleArn string
}

// Auth is the credentials for one pull. The zero value is anonymous.
type Auth struct {
	Username      string
	Password      string
	ServerAddress string
	// Source says where the credentials came from, for messages:
	// "ECS_ENGINE_AUTH_DATA", "repositoryCredentials <name>", "ECR", or ""
	// for an anonymous pull.
	Source string
}

// SecretSource fetches the secret a container's repositoryCredentials
// names: Secrets Manager through the task's execution role
// (internal/secrets), or StaticSecrets for tasks without one.
type SecretSource interface {
	RepositoryCredentials(ctx context.Context, parameter, executionRoleArn string) (username, password string, err error)
}

// ByRole serves repositoryCredentials from Role (Secrets Manager) for a
// task with an execution role, as ECS does, and from NoRole (the static
// file) for one without, which an offline agent's static tasks may be.
type ByRole struct {
	Role, NoRole SecretSource
}

// RepositoryCredentials implements SecretSource.
func (b ByRole) RepositoryCredentials(ctx context.Context, parameter, executionRoleArn string) (string, string, error) {
	if executionRoleArn != "" && b.Role != nil {
		return b.Role.RepositoryCredentials(ctx, parameter, executionRoleArn)
	}
	return b.NoRole.RepositoryCredentials(ctx, parameter, executionRoleArn)
}

// TokenSource gets ECR authorization tokens; *ECR is one.
type TokenSource interface {
	Token(ctx context.Context, registry, executionRoleArn string) (username, password string, err error)
}

// Resolver picks the credentials for a pull.
type Resolver struct {
	// Engine is ECS_ENGINE_AUTH_DATA parsed, by registry address in any
	// of the forms docker accepts ("https://index.docker.io/v1/",
	// "127.0.0.1:5000", "http://host:port").
	Engine map[string]config.RegistryAuth
	// Secrets serves repositoryCredentials; nil refuses them.
	Secrets SecretSource
	// ECR serves ECR registries; nil leaves them to Engine.
	ECR TokenSource
}

// Auth returns the credentials for req.
func (r *Resolver) Auth(ctx context.Context, req Request) (Auth, error) {
	registry := Registry(req.Image)
	if p := req.CredentialsParameter; p != "" {
		if r.Secrets == nil {
			return Auth{}, fmt.Errorf("registry %s: repositoryCredentials %s: no secret source is configured on this agent", registry, p)
		}
		user, pass, err := r.Secrets.RepositoryCredentials(ctx, p, req.ExecutionRoleArn)
		if err != nil {
			return Auth{}, fmt.Errorf("registry %s: repositoryCredentials %s: %w", registry, p, err)
		}
		return Auth{Username: user, Password: pass, ServerAddress: registry, Source: "repositoryCredentials " + p}, nil
	}
	if r.ECR != nil && IsECR(registry) {
		user, pass, err := r.ECR.Token(ctx, registry, req.ExecutionRoleArn)
		if err != nil {
			return Auth{}, fmt.Errorf("registry %s: ECR authorization token: %w", registry, err)
		}
		return Auth{Username: user, Password: pass, ServerAddress: registry, Source: "ECR"}, nil
	}
	for addr, a := range r.Engine {
		if normalize(addr) == registry {
			return Auth{Username: a.Username, Password: a.Password.Reveal(), ServerAddress: addr, Source: "ECS_ENGINE_AUTH_DATA"}, nil
		}
	}
	return Auth{}, nil
}

// DockerHub is the registry of references that name none.
const DockerHub = "docker.io"

// Registry is the registry host (and port) of an image reference, as
// Docker decides it (github.com/distribution/reference, the parser the
// daemon uses): Docker Hub for a reference that names none. A reference
// Docker would refuse is Docker Hub's too; its pull fails with Docker's
// own error.
func Registry(image string) string {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return DockerHub
	}
	return normalize(reference.Domain(named))
}

// normalize turns a registry address as people write it in auth data
// into the host[:port] form Registry returns.
func normalize(addr string) string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	addr = strings.TrimPrefix(addr, "https://")
	addr = strings.TrimPrefix(addr, "http://")
	addr, _, _ = strings.Cut(addr, "/")
	switch addr {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return DockerHub
	}
	return addr
}
