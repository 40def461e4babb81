// Command credsprobe is the program the end-to-end tests run in a
// container to prove that it gets its task role the way any application
// does: it loads the AWS SDK's default configuration (environment, shared
// files, then the container credentials endpoint that
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI names, then the instance
// metadata service) and asks STS who it is. Each call prints one line:
//
//	identity <ARN> key <access key id>
//	error <what failed>
//
// Usage: credsprobe [EVERY FOR] calls once, or every EVERY for FOR (Go
// durations), then waits for SIGTERM so the task keeps running.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	every, total := time.Duration(0), time.Duration(0)
	if len(os.Args) == 3 {
		every, _ = time.ParseDuration(os.Args[1])
		total, _ = time.ParseDuration(os.Args[2])
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryMaxAttempts(5))
	if err != nil {
		fmt.Println("error load config:", err)
	}
	client := sts.NewFromConfig(cfg)
	deadline := time.Now().Add(total)
	for {
		probe(ctx, client, cfg.Credentials)
		if every <= 0 || time.Now().Add(every).After(deadline) {
			break
		}
		time.Sleep(every)
	}
	fmt.Println("done")
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
}

func probe(ctx context.Context, client *sts.Client, creds aws.CredentialsProvider) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, err := creds.Retrieve(ctx)
	if err != nil {
		fmt.Println("error credentials:", err)
		return
	}
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fmt.Println("error GetCallerIdentity:", err)
		return
	}
	fmt.Printf("identity %s key %s\n", aws.ToString(out.Arn), c.AccessKeyID)
}
