// Package chaos proves the agent crash-only under churn: the real binary,
// ACS and polling against hack/fakeecs, static task files added, changed
// and removed, RunTask and StopTask, and SIGKILL at random (seeded)
// instants, round after round. After each round it waits for the agent to
// converge and checks that no task was lost or started twice, no host port
// is held twice, and every transition reached ECS once and in order.
//
// `go test ./test/chaos/` runs the short form (3 rounds, 10 tasks) that
// `make test` includes; `make chaos` runs 100 rounds of up to 50 tasks.
// CHAOS_ROUNDS, CHAOS_TASKS and CHAOS_SEED set the rounds, the most tasks
// desired running at once, and the seed. See docs/performance.md, "Chaos".
package chaos
