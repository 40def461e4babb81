// Command fakeecs serves the test ECS endpoint of package fakeecs by hand, for demos and manual
// testing of the agent against something that is not Amazon ECS:
//
//	go run ./hack/fakeecs/cmd/fakeecs -addr 127.0.0.1:8123 -region us-west-2
//
// Point the agent at it with ECS_BACKEND_HOST=http://127.0.0.1:8123 and the keys AKIDFAKE / fake
// (the API takes any keys; the ACS upgrade's signature must verify, or the agent polls); see
// docs/fake-endpoints.md for the admin API under /_fake/.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ecs-agent/ecs-agent/hack/fakeecs"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8123", "address to listen on")
	region := flag.String("region", "us-west-2", "region in the ARNs the endpoint hands out")
	account := flag.String("account", "123456789012", "account id in the ARNs the endpoint hands out")
	cluster := flag.String("cluster", "", "create this cluster at start (the agent creates \"default\" itself)")
	noACS := flag.Bool("no-acs", false, "serve no ACS websocket, as an ECS-compatible endpoint without it (the agent polls)")
	accessKey := flag.String("access-key", fakeecs.DefaultAccessKeyID, "access key id that may sign the ACS upgrade")
	secretKey := flag.String("secret-key", fakeecs.DefaultSecretAccessKey, "its secret access key")
	flag.Parse()

	srv, err := fakeecs.Start(*addr, fakeecs.Options{Region: *region, AccountID: *account, NoACS: *noACS,
		Credentials: map[string]string{*accessKey: *secretKey}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *cluster != "" {
		srv.CreateCluster(*cluster)
	}
	fmt.Printf("fake ECS endpoint on %s (region %s, account %s); admin API at %s/_fake/\n",
		srv.URL(), *region, *account, srv.URL())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	srv.Stop()
}
