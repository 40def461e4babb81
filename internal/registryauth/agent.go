package registryauth

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecs-agent/ecs-agent/internal/config"
)

// FromConfig builds the agent's resolver: ECS_ENGINE_AUTH_DATA, static
// repository credentials beside ecs.config (StaticSecretsPath), and ECR
// tokens with the AWS configuration awsConfig gives (the instance's
// credentials). awsConfig is called only when an ECR image is pulled.
func FromConfig(cfg *config.Config, awsConfig func(context.Context) (aws.Config, error)) *Resolver {
	return &Resolver{
		Engine:  cfg.EngineAuth,
		Secrets: StaticSecrets{Path: StaticSecretsPath(cfg.ConfigFile)},
		ECR:     &ECR{Config: awsConfig},
	}
}
