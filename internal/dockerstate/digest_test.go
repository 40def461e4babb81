package dockerstate

import "testing"

func TestRepoDigestAndPinnedReference(t *testing.T) {
	const sum = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	const other = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	img := Image{ID: "sha256:abc", RepoDigests: []string{
		"127.0.0.1:5055/team/app@" + sum,
		"busybox@" + other,
	}}
	for _, tc := range []struct {
		ref, digest, pinned string
	}{
		{"127.0.0.1:5055/team/app:v1", sum, "127.0.0.1:5055/team/app@" + sum},
		{"127.0.0.1:5055/team/app", sum, "127.0.0.1:5055/team/app@" + sum},
		{"busybox:1.36", other, "busybox@" + other},
		{"docker.io/library/busybox", other, "busybox@" + other},
		{"elsewhere/app:v1", "", "elsewhere/app:v1"}, // no digest in that repository
		{"127.0.0.1:5055/team/app@" + other, other, "127.0.0.1:5055/team/app@" + other},
	} {
		d := img.RepoDigest(tc.ref)
		if d != tc.digest {
			t.Errorf("RepoDigest(%q) = %q, want %q", tc.ref, d, tc.digest)
		}
		if p := PinnedReference(tc.ref, d); p != tc.pinned {
			t.Errorf("PinnedReference(%q, %q) = %q, want %q", tc.ref, d, p, tc.pinned)
		}
	}
	local := Image{ID: "sha256:def", RepoTags: []string{"ecs-agent-test/app:latest"}}
	if d := local.RepoDigest("ecs-agent-test/app:latest"); d != "" {
		t.Errorf("a locally built image has digest %q, want none", d)
	}
}
