// Package storetest is the contract every store.Store keeps, as one test
// body that each implementation runs against itself (as Nomad's state tests
// run one body against each backend): get, list, create, update and delete
// with resource versions, status-only updates, read-change-write in one
// transaction (UpdateWith), the typed errors, unchanged writes skipped, watch
// order and kinds, and a closed store.
//
// An implementation's own file tests only what is its own: for the bbolt
// store that is durability, the file lock and read-only opening.
package storetest

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/store"
)

// Run runs the contract against stores from open, one fresh empty store per
// check. open registers the store's cleanup with its t; a check may close
// the store itself, so closing twice must be fine.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, c := range contract {
		t.Run(c.name, func(t *testing.T) { c.check(t, open(t)) })
	}
}

var contract = []struct {
	name  string
	check func(*testing.T, store.Store)
}{
	{"CreateGetListDeleteRoundTrip", createGetListDelete},
	{"ListOfEmptyKindIsEmpty", listOfEmptyKind},
	{"CreateRefusesTakenNameAndLeavesObjAlone", createRefusesTakenName},
	{"StaleResourceVersionConflicts", staleResourceVersionConflicts},
	{"UpdateOfMissingObjectIsNotFound", updateOfMissingObject},
	{"UpdateSetsNewResourceVersionAndKeepsIdentity", updateSetsNewResourceVersion},
	{"UnchangedUpdateWritesNothing", unchangedUpdateWritesNothing},
	{"UpdateStatusKeepsASpecWrittenMeanwhile", updateStatusKeepsSpecWrittenMeanwhile},
	{"UnchangedUpdateStatusWritesNothing", unchangedUpdateStatusWritesNothing},
	{"UpdateStatusOfMissingOrStatuslessObjectFails", updateStatusOfMissingOrStatuslessObject},
	{"UpdateWithKeepsEveryConcurrentChange", updateWithKeepsEveryConcurrentChange},
	{"UpdateWithErrorsAndNoOps", updateWithErrorsAndNoOps},
	{"WatchDeliversEveryCommitInOrderUnderConcurrentWriters", watchInCommitOrder},
	{"WatchFiltersByKindAndStopsOnCancel", watchFiltersByKind},
	{"WatcherMayCancelItselfWhileBeingCalled", watcherCancelsItself},
	{"DeleteEventCarriesTheObjectAsItWas", deleteEventCarriesObject},
	{"CloseIsIdempotentAndLaterCallsFail", closeIsIdempotent},
}

// NewTask is a task named name with a spec, as the contract stores them.
func NewTask(name string) *apiv1.Task {
	return &apiv1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       apiv1.TaskSpec{Arn: "arn:aws:ecs:local:000000000000:task/default/" + name, Family: "web", Revision: 1},
	}
}

// MustCreate creates obj in s or fails t.
func MustCreate(t testing.TB, s store.Store, obj store.Object) {
	t.Helper()
	if err := s.Create(context.Background(), obj); err != nil {
		t.Fatalf("create %s: %v", obj.GetName(), err)
	}
}
