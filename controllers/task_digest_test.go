package controllers

import (
	"testing"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// TestVersionConsistencyPinsTheDigestForTheTask: the task's containers of
// one image tag run the digest the task resolved first, even when the tag
// moves before a later container is created; a container with
// versionConsistency disabled runs what the tag names when it is created,
// and reports that digest.
func TestVersionConsistencyPinsTheDigestForTheTask(t *testing.T) {
	const (
		ref    = "127.0.0.1:5055/team/app:v1"
		slow   = "127.0.0.1:5055/team/slow:v1"
		first  = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		second = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	f := newFixture(t)
	f.docker.AddImage(ref, dockerstate.Image{ID: "sha256:aaa", RepoDigests: []string{"127.0.0.1:5055/team/app@" + first}})
	after := func(name string) apiv1.ContainerDependency {
		return apiv1.ContainerDependency{ContainerName: name, Condition: apiv1.ConditionStart}
	}
	early := apiv1.ContainerSpec{Name: "early", Image: ref, Essential: true}
	// gate's image is not on the host yet: late and loose, which need gate
	// created, wait for it.
	gate := apiv1.ContainerSpec{Name: "gate", Image: slow, Essential: true}
	late := apiv1.ContainerSpec{Name: "late", Image: ref, Essential: true, DependsOn: []apiv1.ContainerDependency{after("gate")}}
	loose := apiv1.ContainerSpec{Name: "loose", Image: ref, Essential: true, DependsOn: []apiv1.ContainerDependency{after("gate")},
		VersionConsistencyDisabled: true}
	f.addTask("t1", early, gate, late, loose)
	task := f.settle("t1")
	if cs := task.Status.ContainerStatusFor("early"); cs.DockerID == "" || cs.ImageDigest != first {
		t.Fatalf("early: %+v; want it created with digest %s", cs, first)
	}

	// The tag moves (another task pulled a newer image), then gate's image
	// arrives.
	f.docker.AddImage(ref, dockerstate.Image{ID: "sha256:bbb", RepoDigests: []string{"127.0.0.1:5055/team/app@" + second}})
	f.docker.AddImage(slow, dockerstate.Image{ID: "sha256:ccc"})
	task = f.settle("t1")

	for _, tc := range []struct{ name, digest, image string }{
		{"early", first, "127.0.0.1:5055/team/app@" + first},
		{"late", first, "127.0.0.1:5055/team/app@" + first},
		{"loose", second, ref}, // what the tag named when it was created
		{"gate", "", slow},     // no registry digest: created as named
	} {
		cs := task.Status.ContainerStatusFor(tc.name)
		if cs.DockerID == "" {
			t.Fatalf("%s not created: %s", tc.name, cs.Reason)
		}
		if cs.ImageDigest != tc.digest {
			t.Errorf("%s digest %q, want %q", tc.name, cs.ImageDigest, tc.digest)
		}
		if got := f.docker.CreateConfig(cs.DockerID).Image; got != tc.image {
			t.Errorf("%s created from %q, want %q", tc.name, got, tc.image)
		}
	}
}
