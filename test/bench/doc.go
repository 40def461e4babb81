// Package bench measures the real ecs-agent binary against raw Docker: the
// time from static task files appearing to every task RUNNING, beside
// create+start of the same containers through the Docker API at the same
// concurrency. Run with
//
//	go test -run '^$' -bench . -benchtime=1x ./test/bench/
package bench
