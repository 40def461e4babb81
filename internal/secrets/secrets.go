// Package secrets reads the values of a container's secrets — SSM
// Parameter Store parameters and Secrets Manager secrets — with its task's
// execution role, as the ECS agent does, to be put into the container's
// environment at create and nowhere else: values are returned to the
// caller only, never logged, never part of an error (errors name the
// secret and say what failed). The same reader serves repositoryCredentials
// from Secrets Manager.
//
// A valueFrom is, as ECS reads it:
//
//   - arn:aws:ssm:<region>:<account>:parameter/<name>, or a parameter's
//     name in the agent's region (String or SecureString, decrypted);
//   - arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>,
//     optionally followed by :<json-key>:<version-stage>:<version-id>
//     (each may be empty): the whole secret string, or one key of its JSON.
//
// The clients honour AWS_ENDPOINT_URL_SSM and
// AWS_ENDPOINT_URL_SECRETS_MANAGER through the agent's AWS configuration.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// ssmBatch is the most names one GetParameters call takes.
const ssmBatch = 10

// Reader reads secrets with a role's credentials.
type Reader struct {
	// Config gives the agent's AWS configuration: region, retries and
	// endpoint settings; its credentials are replaced by the role's.
	Config func(context.Context) (aws.Config, error)
	// Role gives the credentials of an execution role.
	Role func(roleArn string) aws.CredentialsProvider
}

// Error is a secret that could not be read: Secret names it (its name and
// valueFrom), Err says why; Permanent says no retry will help (it does not
// exist, the role may not read it, the JSON key is missing).
type Error struct {
	Secret    string
	Err       error
	Permanent bool
}

func (e *Error) Error() string { return fmt.Sprintf("secret %s: %v", e.Secret, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// Env reads the secrets with the execution role's credentials and returns
// them as NAME=value environment entries, in the order given.
func (r *Reader) Env(ctx context.Context, executionRoleArn string, secrets []apiv1.Secret) ([]string, error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	if executionRoleArn == "" {
		return nil, &Error{Secret: describe(secrets[0]), Permanent: true,
			Err: errors.New("the task has no executionRoleArn, which ECS requires to read secrets")}
	}
	cfg, err := r.Config(ctx)
	if err != nil {
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	cfg = cfg.Copy()
	cfg.Credentials = r.Role(executionRoleArn)
	values := make([]string, len(secrets))
	var params []parameter
	for i, s := range secrets {
		if isSecretsManager(s.ValueFrom) {
			v, err := r.secretValue(ctx, cfg, s)
			if err != nil {
				return nil, err
			}
			values[i] = v
			continue
		}
		params = append(params, parameter{index: i, secret: s})
	}
	if err := r.parameters(ctx, cfg, params, values); err != nil {
		return nil, err
	}
	env := make([]string, len(secrets))
	for i, s := range secrets {
		env[i] = s.Name + "=" + values[i]
	}
	return env, nil
}

// describe names a secret for messages: its variable and where it is
// read from.
func describe(s apiv1.Secret) string { return fmt.Sprintf("%s (%s)", s.Name, s.ValueFrom) }

func isSecretsManager(valueFrom string) bool {
	return strings.HasPrefix(valueFrom, "arn:") && arnField(valueFrom, 2) == "secretsmanager"
}

// arnField is the i-th colon-separated field of an ARN ("" past the end).
func arnField(arn string, i int) string {
	f := strings.SplitN(arn, ":", 7)
	if i >= len(f) {
		return ""
	}
	return f[i]
}

// permanent reports whether an AWS error is one no retry fixes.
func permanent(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "ParameterNotFound", "ParameterVersionNotFound", "ResourceNotFoundException",
		"AccessDeniedException", "AccessDenied", "ValidationException", "InvalidParameterException",
		"InvalidRequestException", "DecryptionFailure", "InvalidKeyId":
		return true
	}
	return false
}
