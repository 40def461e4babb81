package taskdef

import (
	"fmt"
	"strings"
)

// CycleError is a dependency cycle among a task's containers: no order
// exists in which each is created after the containers it needs.
type CycleError struct {
	// Names are the containers on the cycle, in dependency order, the first
	// repeated at the end: [a b a] when a needs b and b needs a.
	Names []string
	// First is the index of Names[0] among the task's containers.
	First int
}

func (e *CycleError) Error() string {
	return "dependency cycle: " + strings.Join(e.Names, " → ")
}

// StartOrder returns the indexes of the containers named in names in an
// order where each comes after every container needs(i) names for it (its
// dependsOn and volumesFrom containers). A name that is no container's is an
// error; a cycle is a *CycleError, reported at the first container visited
// on it. Definitions that passed Parse have an order; the task reconciler
// asks again because it runs whatever spec it is given.
func StartOrder(names []string, needs func(i int) []string) ([]int, error) {
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(names))
	order := make([]int, 0, len(names))
	var path []int
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			return cycle(names, path, i)
		}
		state[i] = visiting
		path = append(path, i)
		for _, dep := range needs(i) {
			j, ok := index[dep]
			if !ok {
				return fmt.Errorf("container %s depends on unknown container %s", names[i], dep)
			}
			if err := visit(j); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		order = append(order, i)
		return nil
	}
	for i := range names {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// cycle is the cycle that closes when path, the containers being visited,
// reaches container i again.
func cycle(names []string, path []int, i int) *CycleError {
	e := &CycleError{First: i}
	for k := len(path) - 1; k >= 0; k-- {
		if path[k] == i {
			for _, j := range path[k:] {
				e.Names = append(e.Names, names[j])
			}
			break
		}
	}
	e.Names = append(e.Names, names[i])
	return e
}
