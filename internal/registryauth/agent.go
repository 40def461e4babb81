package registryauth

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecs-agent/ecs-agent/internal/config"
)

// FromConfig builds the agent's resolver: ECS_ENGINE_AUTH_DATA,
// repositoryCredentials from roleSecrets (Secrets Manager with the task's
// execution role) or, for a task without one or with roleSecrets nil, from
// the static file beside ecs.config (StaticSecretsPath), and ECR tokens with
// the AWS configuration awsConfig gives (the instance's credentials), or a
// task's execution role's credentials from roleCredentials when the task
// has one (nil: always the instance's). awsConfig is called only when an
// ECR image is pulled.
func FromConfig(cfg *config.Config, awsConfig func(context.Context) (aws.Config, error), roleCredentials func(ctx context.Context, roleArn string) (aws.CredentialsProvider, error), roleSecrets SecretSource) *Resolver {
	return &Resolver{
		Engine:  cfg.EngineAuth,
		Secrets: ByRole{Role: roleSecrets, NoRole: StaticSecrets{Path: StaticSecretsPath(cfg.ConfigFile)}},
		ECR:     &ECR{Config: awsConfig, RoleCredentials: roleCredentials},
	}
}
