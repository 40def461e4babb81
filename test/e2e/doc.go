// Package e2e holds the end-to-end tests of ecs-agent: the real binary,
// built once per run, against the real Docker daemon, each test with its
// own agent, store, static task directory, ports and ECS cluster, and every
// container of that cluster removed afterwards. The helpers live in
// test/e2e/harness. Run with `go test ./test/e2e/`.
package e2e
