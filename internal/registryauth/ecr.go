package registryauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"golang.org/x/sync/singleflight"
)

// ecrHost matches the registries ECR serves, as the ECS agent's ecr
// package recognises them: <account>.dkr.ecr[-fips].<region>.amazonaws.com
// (and the .com.cn partition).
var ecrHost = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)

// IsECR reports whether registry is an ECR registry.
func IsECR(registry string) bool { return ecrHost.MatchString(registry) }

// DefaultECRRefresh is how long before its expiry an ECR token is renewed.
// Tokens live 12 hours; a pull that starts with a token about to expire
// could fail halfway through a large image.
const DefaultECRRefresh = 30 * time.Minute

// ECR gets authorization tokens from ECR GetAuthorizationToken and caches
// them per registry and role until shortly before they expire.
type ECR struct {
	// Config gives the base AWS configuration: credentials (the
	// instance's), retries; its region is replaced by the registry's. It is
	// called for each token request (a few a day), so that an agent that
	// pulls no ECR image never loads AWS configuration, and a broken one
	// fails ECR pulls with its error rather than the agent's start.
	Config func(context.Context) (aws.Config, error)
	// Endpoint, when set, replaces the ECR endpoint (tests, VPC
	// endpoints). Otherwise the SDK resolves it, honouring
	// AWS_ENDPOINT_URL_ECR as every SDK client does.
	Endpoint string
	// RoleCredentials gives the credentials of a task execution role; nil
	// (or a nil answer) uses Config's credentials.
	RoleCredentials func(ctx context.Context, roleArn string) (aws.CredentialsProvider, error)
	// Refresh is DefaultECRRefresh when zero. A token with less than twice
	// Refresh to live is renewed halfway through its life instead.
	Refresh time.Duration
	Now     func() time.Time

	mu      sync.Mutex // guards cache
	cache   map[string]ecrToken
	fetches singleflight.Group
}

type ecrToken struct {
	user, pass string
	renewAt    time.Time
}

var _ TokenSource = (*ECR)(nil)

// Token implements TokenSource.
func (e *ECR) Token(ctx context.Context, registry, roleArn string) (string, string, error) {
	m := ecrHost.FindStringSubmatch(registry)
	if m == nil {
		return "", "", fmt.Errorf("%s is not an ECR registry", registry)
	}
	account, region := m[1], m[2]
	key := registry + "|" + roleArn
	now := e.now()
	e.mu.Lock()
	t, ok := e.cache[key]
	e.mu.Unlock()
	if ok && now.Before(t.renewAt) {
		return t.user, t.pass, nil
	}
	// Concurrent pulls of one registry and role share one token request;
	// other registries never wait for it (a slow or unreachable ECR
	// region must not hold up the rest).
	v, err, _ := e.fetches.Do(key, func() (any, error) {
		t, err := e.fetch(ctx, account, region, roleArn, now)
		if err != nil {
			return nil, err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.cache == nil {
			e.cache = map[string]ecrToken{}
		}
		e.cache[key] = t
		return t, nil
	})
	if err != nil {
		return "", "", err
	}
	t = v.(ecrToken)
	return t.user, t.pass, nil
}

func (e *ECR) fetch(ctx context.Context, account, region, roleArn string, now time.Time) (ecrToken, error) {
	cfg, err := e.Config(ctx)
	if err != nil {
		return ecrToken{}, err
	}
	cfg = cfg.Copy()
	cfg.Region = region
	if roleArn != "" && e.RoleCredentials != nil {
		creds, err := e.RoleCredentials(ctx, roleArn)
		if err != nil {
			return ecrToken{}, fmt.Errorf("credentials of execution role %s: %w", roleArn, err)
		}
		if creds != nil {
			cfg.Credentials = creds
		}
	}
	client := ecr.NewFromConfig(cfg, func(o *ecr.Options) {
		if e.Endpoint != "" {
			o.BaseEndpoint = aws.String(e.Endpoint)
		}
	})
	out, err := client.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{RegistryIds: []string{account}})
	if err != nil {
		return ecrToken{}, fmt.Errorf("GetAuthorizationToken for account %s in %s: %w", account, region, err)
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return ecrToken{}, fmt.Errorf("GetAuthorizationToken for account %s in %s: no authorization data in the answer", account, region)
	}
	data := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(data.AuthorizationToken))
	if err != nil {
		return ecrToken{}, errors.New("GetAuthorizationToken: the token is not base64")
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return ecrToken{}, errors.New("GetAuthorizationToken: the token does not decode to user:password")
	}
	t := ecrToken{user: user, pass: pass, renewAt: now}
	if data.ExpiresAt != nil {
		life := data.ExpiresAt.Sub(now)
		margin := e.Refresh
		if margin <= 0 {
			margin = DefaultECRRefresh
		}
		margin = min(margin, life/2)
		t.renewAt = data.ExpiresAt.Add(-margin)
	}
	return t, nil
}

func (e *ECR) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}
