// Package controlplane connects the agent to Amazon ECS through its public
// API (aws-sdk-go-v2): it registers the container instance, polls for the
// tasks ECS placed on it and writes them as Task objects, and submits the
// state changes the reporter (controllers.ReportReconciler) hands it.
//
// Desired state is pushed over an ACS session (internal/acs) where ECS
// offers one, with a poll as the backstop; see Poller for what a poll costs.
package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go/middleware"
)

// imdsTimeout bounds every instance metadata lookup: off EC2 (on-premises,
// a laptop) there is no metadata service and start-up must not wait for one.
const imdsTimeout = 2 * time.Second

// ClientOptions say how to reach ECS. Empty fields fall back to the SDK's
// usual chain: environment, shared config files, EC2 instance metadata.
type ClientOptions struct {
	// Region is AWS_DEFAULT_REGION / AWS_REGION from the agent's config.
	Region string
	// AccessKeyID, SecretAccessKey and SessionToken are static credentials
	// from the agent's config; empty means the SDK's default chain.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// BackendHost is ECS_BACKEND_HOST as config parsed it: the endpoint's
	// URL ("" for the region's endpoint).
	BackendHost string
	// CallTimeout bounds one attempt of an AWS call (default
	// APICallTimeout).
	CallTimeout time.Duration
}

// Client is the ECS API client with the host's identity.
type Client struct {
	ECS    *ecs.Client
	Region string
	// AWS is the SDK configuration the client was built from, region
	// resolved, for the agent's other AWS clients (ECR) to share its
	// credentials and their cache.
	AWS aws.Config
	// IdentityDocument and IdentitySignature are the EC2 instance identity
	// document and its signature; empty off EC2.
	IdentityDocument  string
	IdentitySignature string
}

// APICallTimeout bounds one attempt of an AWS API call, answer included.
// Every ECS and ECR call answers in well under a second; 30 s is a hung
// connection, not a slow service.
const APICallTimeout = 30 * time.Second

func (o ClientOptions) callTimeout() time.Duration {
	if o.CallTimeout > 0 {
		return o.CallTimeout
	}
	return APICallTimeout
}

// ErrNoRegion means no region could be found anywhere.
var ErrNoRegion = errors.New("no AWS region: set AWS_DEFAULT_REGION or AWS_REGION (in the environment or /etc/ecs/ecs.config), " +
	"configure one in the shared AWS config, or run on EC2 where the instance metadata service gives it; " +
	"to run only static tasks without ECS, set ECS_OFFLINE=true")

// LoadAWSConfig loads the SDK configuration of the agent's AWS clients:
// o's region and static credentials over the SDK's default chain. It makes
// no AWS call.
func LoadAWSConfig(ctx context.Context, o ClientOptions) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{
		// No AWS call may hang: each attempt of every client built from
		// this (ECS, ECR, STS, …) ends after APICallTimeout, and the
		// retryer takes it from there.
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(o.callTimeout())),
	}
	if o.Region != "" {
		opts = append(opts, awsconfig.WithRegion(o.Region))
	}
	if o.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, o.SessionToken)))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return awsCfg, nil
}

// NewClient resolves region and credentials and builds the ECS client.
func NewClient(ctx context.Context, o ClientOptions) (*Client, error) {
	awsCfg, err := LoadAWSConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	md := imds.NewFromConfig(awsCfg, func(mo *imds.Options) {
		// One attempt: a missing metadata service should fail fast.
		mo.Retryer = aws.NopRetryer{}
	})
	if awsCfg.Region == "" {
		awsCfg.Region = imdsRegion(ctx, md)
	}
	if awsCfg.Region == "" {
		return nil, ErrNoRegion
	}
	c := &Client{Region: awsCfg.Region, AWS: awsCfg}
	c.IdentityDocument, c.IdentitySignature = identity(ctx, md)
	c.ECS = ecs.NewFromConfig(awsCfg, func(eo *ecs.Options) {
		if o.BackendHost != "" {
			eo.BaseEndpoint = aws.String(o.BackendHost)
		}
		eo.APIOptions = append(eo.APIOptions, countCalls)
	})
	return c, nil
}

// countCalls counts every attempt of every ECS request (retries included),
// which is what the API's request rate limits count.
func countCalls(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("ecsAgentCallCount",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			apiCalls.WithLabelValues(middleware.GetOperationName(ctx)).Inc()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func imdsRegion(ctx context.Context, md *imds.Client) string {
	ctx, cancel := context.WithTimeout(ctx, imdsTimeout)
	defer cancel()
	out, err := md.GetRegion(ctx, nil)
	if err != nil {
		return ""
	}
	return out.Region
}

// identity reads the instance identity document and its signature, which
// ECS checks at registration on EC2. Off EC2 both are empty.
func identity(ctx context.Context, md *imds.Client) (doc, sig string) {
	ctx, cancel := context.WithTimeout(ctx, imdsTimeout)
	defer cancel()
	read := func(path string) string {
		out, err := md.GetDynamicData(ctx, &imds.GetDynamicDataInput{Path: path})
		if err != nil {
			return ""
		}
		defer out.Content.Close()
		b, err := io.ReadAll(out.Content)
		if err != nil {
			return ""
		}
		return string(b)
	}
	doc = read("instance-identity/document")
	if doc == "" {
		return "", ""
	}
	return doc, read("instance-identity/signature")
}
