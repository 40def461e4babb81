package secrets

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// parameter is one secret read from SSM, and where its value goes.
type parameter struct {
	index  int
	secret apiv1.Secret
}

// parameters reads the SSM secrets, by region and in batches of ten, as
// the ECS agent does, into values.
func (r *Reader) parameters(ctx context.Context, cfg aws.Config, params []parameter, values []string) error {
	byRegion := map[string][]parameter{}
	var regions []string
	for _, p := range params {
		region := cfg.Region
		if arnField(p.secret.ValueFrom, 0) == "arn" {
			region = arnField(p.secret.ValueFrom, 3)
		}
		if _, ok := byRegion[region]; !ok {
			regions = append(regions, region)
		}
		byRegion[region] = append(byRegion[region], p)
	}
	for _, region := range regions {
		rc := cfg.Copy()
		rc.Region = region
		client := ssm.NewFromConfig(rc)
		for batch := range slices.Chunk(byRegion[region], ssmBatch) {
			if err := readBatch(ctx, client, region, batch, values); err != nil {
				return err
			}
		}
	}
	return nil
}

func readBatch(ctx context.Context, client *ssm.Client, region string, batch []parameter, values []string) error {
	names := make([]string, 0, len(batch))
	for _, p := range batch {
		names = append(names, p.secret.ValueFrom)
	}
	out, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: names, WithDecryption: aws.Bool(true)})
	if err != nil {
		// One call reads the batch, so the failure is the batch's: name
		// every secret in it.
		which := make([]string, 0, len(batch))
		for _, p := range batch {
			which = append(which, describe(p.secret))
		}
		return &Error{Secret: strings.Join(which, ", "), Permanent: permanent(err),
			Err: fmt.Errorf("fetching secret data from SSM Parameter Store in %s: %w", region, err)}
	}
	// GetParameters answers a parameter by the name or ARN it was asked
	// for, and by its own name and ARN.
	got := map[string]string{}
	for _, p := range out.Parameters {
		v := aws.ToString(p.Value)
		got[aws.ToString(p.Name)] = v
		got[aws.ToString(p.ARN)] = v
	}
	for _, p := range batch {
		v, ok := got[p.secret.ValueFrom]
		if !ok {
			return &Error{Secret: describe(p.secret), Permanent: true,
				Err: fmt.Errorf("fetching secret data from SSM Parameter Store in %s: invalid parameters: %s", region, p.secret.ValueFrom)}
		}
		values[p.index] = v
	}
	return nil
}
