package dockerstate_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ecs-agent/ecs-agent/internal/dockerstate"
)

// Image ids and a repo digest for the index tests: 64 hex digits each.
var (
	busyboxID = "sha256:" + strings.Repeat("a1", 32)
	appID     = "sha256:" + strings.Repeat("b2", 32)
	danglyID  = "sha256:b3" + strings.Repeat("0", 62)
	repoSum   = "sha256:" + strings.Repeat("d4", 32)
)

func testIndex() *dockerstate.ImageIndex {
	var x dockerstate.ImageIndex
	x.Put(dockerstate.Image{ID: busyboxID, RepoTags: []string{"busybox:latest", "busybox:1.36"}, RepoDigests: []string{"busybox@" + repoSum}})
	x.Put(dockerstate.Image{ID: appID, RepoTags: []string{"127.0.0.1:5055/team/app:1", "ecr.example.com/x/y:2"}})
	x.Put(dockerstate.Image{ID: danglyID})
	return &x
}

// TestImageReferencesResolveAsDockerResolvesThem is the lookup table: what
// docker image inspect finds for each way of naming an image.
func TestImageReferencesResolveAsDockerResolvesThem(t *testing.T) {
	x := testIndex()
	tests := []struct {
		ref  string
		want string // image id; "" for none
	}{
		{"busybox", busyboxID},
		{"busybox:latest", busyboxID},
		{"library/busybox:1.36", busyboxID},
		{"docker.io/library/busybox", busyboxID},
		{"index.docker.io/library/busybox:1.36", busyboxID},
		{"busybox:1.35", ""},
		{"busybox@" + repoSum, busyboxID},
		// With a tag and a digest, Docker looks up the digest alone.
		{"busybox:1.36@" + repoSum, busyboxID},
		{"busybox:9.9@" + repoSum, busyboxID},
		{"busybox@sha256:" + strings.Repeat("e5", 32), ""},
		{"127.0.0.1:5055/team/app:1", appID},
		{"127.0.0.1:5055/team/app", ""}, // :latest
		{"ecr.example.com/x/y:2", appID},
		{"x/y:2", ""}, // docker.io/x/y, another repository
		// Ids: full, bare hex, and unique prefixes with or without sha256:.
		{busyboxID, busyboxID},
		{strings.TrimPrefix(busyboxID, "sha256:"), busyboxID},
		{"a1a1a1", busyboxID},
		{"sha256:b2b2", appID},
		{"b3", danglyID},
		{"b", ""}, // ambiguous: b2… and b3…
		{"sha256:" + strings.Repeat("f6", 32), ""},
		{strings.Repeat("f6", 32), ""},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			img, ok, err := x.Resolve(tt.ref)
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.ref, err)
			}
			if ok != (tt.want != "") || img.ID != tt.want {
				t.Errorf("Resolve(%q) = %q, %v; want %q", tt.ref, img.ID, ok, tt.want)
			}
		})
	}
}

func TestWhatIsNoReferenceIsAnError(t *testing.T) {
	x := testIndex()
	for _, ref := range []string{"Busybox", "busybox:", "", "a b"} {
		if _, ok, err := x.Resolve(ref); err == nil || ok {
			t.Errorf("Resolve(%q) = %v, %v; want an invalid reference error", ref, ok, err)
		}
	}
}

func TestATagNamesOneImage(t *testing.T) {
	x := testIndex()
	newer := "sha256:" + strings.Repeat("c7", 32)
	if !x.Put(dockerstate.Image{ID: newer, RepoTags: []string{"busybox:latest"}}) {
		t.Fatal("Put of a new image reported no change")
	}
	if img, _, _ := x.Resolve("busybox"); img.ID != newer {
		t.Errorf("busybox resolves to %q after the tag moved; want %q", img.ID, newer)
	}
	old, ok, _ := x.Resolve(busyboxID)
	if !ok || !reflect.DeepEqual(old.RepoTags, []string{"busybox:1.36"}) {
		t.Errorf("the image the tag left: %+v, %v; want it with busybox:1.36 only", old, ok)
	}
}

func TestUntagKeepsTheImageAndDeleteDropsItsNames(t *testing.T) {
	x := testIndex()
	img, ok := x.Untag("busybox")
	if !ok || !reflect.DeepEqual(img.RepoTags, []string{"busybox:1.36"}) {
		t.Fatalf("Untag(busybox) = %+v, %v; want the image with busybox:1.36 left", img, ok)
	}
	if _, ok := x.Untag("busybox"); ok {
		t.Error("a second Untag(busybox) found a name")
	}
	if _, ok, _ := x.Resolve("busybox:1.36"); !ok {
		t.Error("busybox:1.36 lost with busybox:latest")
	}
	if !x.Delete(busyboxID) || x.Delete(busyboxID) {
		t.Error("Delete reported the wrong presence")
	}
	for _, ref := range []string{"busybox:1.36", "busybox@" + repoSum, busyboxID} {
		if _, ok, _ := x.Resolve(ref); ok {
			t.Errorf("%s still resolves after its image was deleted", ref)
		}
	}
}

func TestReplaceReportsWhatCameWentOrChanged(t *testing.T) {
	x := testIndex()
	created := time.Unix(1_800_000_000, 0)
	fresh := []dockerstate.Image{
		// Unchanged but for the order of names and inspect's nanoseconds.
		{ID: busyboxID, RepoTags: []string{"busybox:1.36", "busybox:latest"}, RepoDigests: []string{"busybox@" + repoSum}},
		{ID: appID, RepoTags: []string{"127.0.0.1:5055/team/app:1"}},
		{ID: "sha256:" + strings.Repeat("c7", 32), Created: created},
	}
	changed := x.Replace(fresh)
	want := []string{appID, danglyID, "sha256:" + strings.Repeat("c7", 32)}
	if !reflect.DeepEqual(changed, want) {
		t.Errorf("Replace changed %v; want %v", changed, want)
	}
	if changed := x.Put(dockerstate.Image{ID: fresh[2].ID, Created: created.Add(300 * time.Millisecond)}); changed {
		t.Error("the same image with a sub-second creation time counts as changed")
	}
	if len(x.Images()) != 3 {
		t.Errorf("Images = %+v; want the three listed", x.Images())
	}
}
