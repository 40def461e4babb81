package chaos

import (
	"fmt"
	"math/rand"
	"slices"
	"sort"

	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// world is what the test wants: which static files exist and at which
// generation, and which ECS tasks are desired running. The agent must
// converge on it after every round, whatever the kills interrupted.
type world struct {
	a   *h.ECSAgent
	rng *rand.Rand
	// max is the most tasks desired running at once.
	max int
	// static maps a present task file to its generation, which its
	// container's command carries ("sleep g7"), so that the newest
	// revision can be told from older ones.
	static map[string]int
	// gone are files that existed and were removed: all their tasks must
	// stop.
	gone map[string]bool
	// ecs maps every task ARN RunTask returned to whether it is desired
	// running (false once StopTask was called).
	ecs      map[string]bool
	nextFile int
	gen      int
}

func newWorld(a *h.ECSAgent, rng *rand.Rand, max int) *world {
	return &world{a: a, rng: rng, max: max, static: map[string]int{}, gone: map[string]bool{}, ecs: map[string]bool{}}
}

// desiredRunning counts the tasks the world wants running.
func (w *world) desiredRunning() int {
	n := len(w.static)
	for _, run := range w.ecs {
		if run {
			n++
		}
	}
	return n
}

// definition is the task of a static file or of RunTask: one container that
// sleeps until stopped, with a dynamic host port for every other task, so
// that ports are allocated, freed and re-used under the kills.
func (w *world) definition(family string, gen int) string {
	app := h.App("app", "sleep", fmt.Sprintf("g%d", gen))
	if gen%2 == 0 {
		app = app.Port(8080, 0)
	}
	return h.Task(family, app).JSON()
}

func (w *world) ecsDefinition(gen int) h.TaskDefinition {
	app := h.App("app", "sleep", fmt.Sprintf("g%d", gen))
	if gen%2 == 0 {
		app = app.Port(8080, 0)
	}
	return h.Task("chaos-ecs", app)
}

// step makes one random change and says what it was. Changes that would
// exceed max tasks, or act on nothing, fall through to one that can.
func (w *world) step() string {
	files := sortedKeys(w.static)
	var running []string
	for _, arn := range sortedKeys(w.ecs) {
		if w.ecs[arn] {
			running = append(running, arn)
		}
	}
	full := w.desiredRunning() >= w.max
	w.gen++
	op := w.rng.Intn(5)
	if w.desiredRunning() < w.max/2 && w.rng.Intn(3) > 0 {
		op = 3 * w.rng.Intn(2) // below half full, mostly add: a file or RunTask
	}
	switch {
	case op == 0 && !full:
		w.nextFile++
		name := fmt.Sprintf("s%03d.json", w.nextFile)
		w.a.WriteTask(name, w.definition(family(name), w.gen))
		w.static[name] = w.gen
		return "add " + name
	case op == 1 && len(files) > 0:
		name := files[w.rng.Intn(len(files))]
		w.a.WriteTask(name, w.definition(family(name), w.gen))
		w.static[name] = w.gen
		return "change " + name
	case op == 2 && len(files) > 0:
		name := files[w.rng.Intn(len(files))]
		w.a.RemoveTask(name)
		delete(w.static, name)
		w.gone[name] = true
		return "remove " + name
	case op == 4 && len(running) > 0:
		arn := running[w.rng.Intn(len(running))]
		w.a.StopTask(arn, "chaos: StopTask")
		w.ecs[arn] = false
		return "StopTask " + shortARN(arn)
	case !full:
		arn := w.a.RunTask(w.ecsDefinition(w.gen))
		w.ecs[arn] = true
		return "RunTask " + shortARN(arn)
	case len(running) > 0:
		arn := running[w.rng.Intn(len(running))]
		w.a.StopTask(arn, "chaos: StopTask")
		w.ecs[arn] = false
		return "StopTask " + shortARN(arn)
	default:
		name := files[w.rng.Intn(len(files))]
		w.a.RemoveTask(name)
		delete(w.static, name)
		w.gone[name] = true
		return "remove " + name
	}
}

func family(file string) string { return "chaos-" + file[:len(file)-len(".json")] }

func shortARN(arn string) string {
	if i := len(arn) - 8; i > 0 {
		return "…" + arn[i:]
	}
	return arn
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return slices.Clip(keys)
}
