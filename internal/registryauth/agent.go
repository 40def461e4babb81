package registryauth

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ecs-agent/ecs-agent/internal/config"
)

// FromConfig builds the agent's resolver: ECS_ENGINE_AUTH_DATA, static
// repository credentials beside ecs.config (StaticSecretsPath), and ECR
// tokens with the instance's AWS credentials (AWS_ACCESS_KEY_ID… when set,
// else the SDK's default chain, EC2 instance metadata included). No AWS
// call is made until an ECR image is pulled.
func FromConfig(ctx context.Context, cfg *config.Config) (*Resolver, error) {
	opts := []func(*awsconfig.LoadOptions) error{}
	if cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			cfg.AccessKeyID, cfg.SecretAccessKey.Reveal(), cfg.SessionToken.Reveal())))
	}
	aws, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration for ECR: %w", err)
	}
	return &Resolver{
		Engine:  cfg.EngineAuth,
		Secrets: StaticSecrets{Path: StaticSecretsPath(cfg.ConfigFile)},
		ECR:     &ECR{Config: aws},
	}, nil
}
