package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// secretRef is a Secrets Manager valueFrom taken apart.
type secretRef struct {
	arn, region               string
	jsonKey, stage, versionID string
}

// parseSecretRef splits arn:…:secret:<name-suffix>[:json-key[:stage[:id]]].
func parseSecretRef(valueFrom string) (secretRef, error) {
	f := strings.Split(valueFrom, ":")
	if len(f) < 7 || len(f) > 10 || f[5] != "secret" || f[6] == "" {
		return secretRef{}, errors.New("not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>[:json-key:version-stage:version-id])")
	}
	ref := secretRef{arn: strings.Join(f[:7], ":"), region: f[3]}
	for i, p := range []*string{&ref.jsonKey, &ref.stage, &ref.versionID} {
		if 7+i < len(f) {
			*p = f[7+i]
		}
	}
	return ref, nil
}

// secretValue reads one Secrets Manager secret (or one key of its JSON).
func (r *Reader) secretValue(ctx context.Context, cfg aws.Config, s apiv1.Secret) (string, error) {
	ref, err := parseSecretRef(s.ValueFrom)
	if err != nil {
		return "", &Error{Secret: describe(s), Err: err, Permanent: true}
	}
	str, err := getSecretString(ctx, cfg, ref)
	if err != nil {
		return "", &Error{Secret: describe(s), Err: err, Permanent: permanent(err) || errors.Is(err, errNotString)}
	}
	if ref.jsonKey == "" {
		return str, nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(str), &doc); err != nil {
		return "", &Error{Secret: describe(s), Permanent: true, Err: fmt.Errorf("the secret is not a JSON object, so it has no key %q", ref.jsonKey)}
	}
	raw, ok := doc[ref.jsonKey]
	if !ok {
		return "", &Error{Secret: describe(s), Permanent: true, Err: fmt.Errorf("the secret's JSON has no key %q", ref.jsonKey)}
	}
	var v string
	if json.Unmarshal(raw, &v) == nil {
		return v, nil
	}
	return string(raw), nil // a number, boolean or object, as its JSON
}

var errNotString = errors.New("the secret holds binary data, not a string")

// getSecretString calls GetSecretValue in the secret's region.
func getSecretString(ctx context.Context, cfg aws.Config, ref secretRef) (string, error) {
	rc := cfg.Copy()
	if ref.region != "" {
		rc.Region = ref.region
	}
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref.arn)}
	if ref.stage != "" {
		in.VersionStage = aws.String(ref.stage)
	}
	if ref.versionID != "" {
		in.VersionId = aws.String(ref.versionID)
	}
	out, err := secretsmanager.NewFromConfig(rc).GetSecretValue(ctx, in)
	if err != nil {
		return "", fmt.Errorf("retrieving secret from Secrets Manager in %s: %w", rc.Region, err)
	}
	if out.SecretString == nil {
		return "", errNotString
	}
	return *out.SecretString, nil
}

// RepositoryCredentials reads a container's repositoryCredentials secret
// ({"username": …, "password": …}) with the execution role: the
// registryauth.SecretSource for tasks that have one. parameter is the
// secret's ARN, or its name in the agent's region.
func (r *Reader) RepositoryCredentials(ctx context.Context, parameter, executionRoleArn string) (string, string, error) {
	cfg, err := r.Config(ctx)
	if err != nil {
		return "", "", err
	}
	cfg = cfg.Copy()
	cfg.Credentials = r.Role(executionRoleArn)
	ref := secretRef{arn: parameter}
	if strings.HasPrefix(parameter, "arn:") {
		if ref, err = parseSecretRef(parameter); err != nil {
			return "", "", err
		}
	}
	str, err := getSecretString(ctx, cfg, ref)
	if err != nil {
		return "", "", err
	}
	var auth struct{ Username, Password string }
	if err := json.Unmarshal([]byte(str), &auth); err != nil || auth.Username == "" || auth.Password == "" {
		return "", "", errors.New(`the secret is not {"username": …, "password": …}`)
	}
	return auth.Username, auth.Password, nil
}
