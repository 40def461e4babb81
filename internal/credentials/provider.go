package credentials

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// RoleProvider is an SDK credentials provider for the held credentials of
// a role ARN (ForRole): how the agent's own AWS clients (ECR, SSM, Secrets
// Manager) act as a task's execution role. Each Retrieve reads the holder
// again, so a refresh reaches the next call.
func (h *Holder) RoleProvider(role apiv1.RoleType, roleArn string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		c, ok := h.ForRole(role, roleArn)
		if !ok {
			return aws.Credentials{}, fmt.Errorf("no credentials held for %s %s yet", role, roleArn)
		}
		return aws.Credentials{
			AccessKeyID:     c.AccessKeyID,
			SecretAccessKey: c.SecretAccessKey,
			SessionToken:    c.SessionToken,
			Source:          "ecs-agent " + string(role),
			CanExpire:       !c.Expiration.IsZero(),
			Expires:         c.Expiration,
		}, nil
	})
}
