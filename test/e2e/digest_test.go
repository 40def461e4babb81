package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	h "github.com/ecs-agent/ecs-agent/test/e2e/harness"
)

// TestVersionConsistencyPinsTheImageDigest runs an ECS task of two
// containers of one registry tag: the one with versionConsistency (ECS's
// default) is created from the digest the pull resolved, the one with it
// disabled from the tag, and the RUNNING report tells ECS the digest of
// both. (That the pin holds when the tag moves before a later container of
// the task is created is the controllers' TestVersionConsistencyPinsTheDigestForTheTask.)
func TestVersionConsistencyPinsTheImageDigest(t *testing.T) {
	t.Parallel()
	ref := h.PushImage(t, h.TestImage, "e2e-digest")
	e := h.StartECS(t)
	a := e.StartAgent(t, h.Options{Env: engineAuth("docker", h.Registry(t), h.RegistryPassword)})
	pinned, floating := h.App("pinned", "sleep"), h.App("floating", "sleep").NotEssential()
	pinned.Image, floating.Image = ref, ref
	floating.VersionConsistency = "disabled"
	arn := a.RunTask(h.Task("digest", pinned, floating))

	task := a.WaitECSTask(t, arn, pullTimeout, h.IsRunning)
	digest := repoDigest(t, ref)
	repo := ref[:strings.LastIndex(ref, ":")]
	for _, tc := range []struct{ name, image string }{
		{"pinned", repo + "@" + digest},
		{"floating", ref},
	} {
		c := h.Container(t, task, tc.name)
		if got := inspectSettings(t, c.DockerID).Config.Image; got != tc.image {
			t.Errorf("%s created from %q, want %q", tc.name, got, tc.image)
		}
		if c.ImageDigest != digest {
			t.Errorf("%s digest %q, want the registry's %s", tc.name, c.ImageDigest, digest)
		}
	}
	rs := a.WaitReports(t, arn, reportTimeout, h.HasReport("task RUNNING"))
	for _, name := range []string{"pinned", "floating"} {
		if c, ok := h.ContainerTransition(rs, name, "RUNNING"); !ok || c.ImageDigest != digest {
			t.Errorf("%s RUNNING report %+v, want imageDigest %s", name, c, digest)
		}
	}
}

// repoDigest is the registry digest of the image ref names on this host.
func repoDigest(t *testing.T, ref string) string {
	t.Helper()
	out, err := exec.Command("docker", "image", "inspect", "--format", "{{json .RepoDigests}}", ref).Output()
	if err != nil {
		t.Fatalf("docker image inspect %s: %v", ref, err)
	}
	var digests []string
	if err := json.Unmarshal(out, &digests); err != nil {
		t.Fatal(err)
	}
	repo := ref[:strings.LastIndex(ref, ":")]
	for _, d := range digests {
		if r, sum, ok := strings.Cut(d, "@"); ok && r == repo {
			return sum
		}
	}
	t.Fatalf("image %s has no digest in %s: %q", ref, repo, digests)
	return ""
}
