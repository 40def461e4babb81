package credentials

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// DefaultRoleDuration is how long assumed-role credentials are asked to
// live: STS's own default for AssumeRole, and what ECS hands tasks.
const DefaultRoleDuration = time.Hour

// fallbackRegion is where STS is called when the agent knows no region (an
// offline agent): STS's global endpoint lives there.
const fallbackRegion = "us-east-1"

// STS gets a role's credentials with AssumeRole, signed with the agent's
// own credentials. The client honours AWS_ENDPOINT_URL_STS (and the rest
// of the SDK's configuration) through Config.
type STS struct {
	// Config gives the agent's AWS configuration: its credentials, region
	// and endpoint settings. It is called for each AssumeRole (a few an
	// hour), so that an agent with no task role never loads it.
	Config func(context.Context) (aws.Config, error)
	// Duration is DefaultRoleDuration when zero.
	Duration time.Duration
}

// AssumeRole assumes roleArn under sessionName and returns its
// credentials.
func (s *STS) AssumeRole(ctx context.Context, roleArn, sessionName string) (Credentials, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return Credentials{}, fmt.Errorf("assume role %s: %w", roleArn, err)
	}
	if cfg.Region == "" {
		cfg = cfg.Copy()
		cfg.Region = fallbackRegion
	}
	d := s.Duration
	if d <= 0 {
		d = DefaultRoleDuration
	}
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(roleArn),
		RoleSessionName: aws.String(SessionName(sessionName)),
		DurationSeconds: aws.Int32(int32(d / time.Second)),
	})
	if err != nil {
		return Credentials{}, fmt.Errorf("assume role %s: %w", roleArn, err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.Expiration == nil {
		return Credentials{}, fmt.Errorf("assume role %s: STS answered without credentials", roleArn)
	}
	return Credentials{
		RoleArn:         roleArn,
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Expiration:      c.Expiration.UTC(),
	}, nil
}

var notSessionNameChar = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName makes s a valid role session name: STS allows 2 to 64 of
// letters, digits and +=,.@_- (AssumeRole's RoleSessionName).
func SessionName(s string) string {
	s = notSessionNameChar.ReplaceAllString(s, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	for len(s) < 2 {
		s += "-"
	}
	return s
}

// Permanent reports whether an AssumeRole error is one that retrying
// cannot fix: the role may not be assumed by the agent, or the request is
// invalid (no such role, a malformed ARN).
func Permanent(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "AccessDenied", "ValidationError", "MalformedPolicyDocument", "RegionDisabledException":
		return true
	}
	return false
}
