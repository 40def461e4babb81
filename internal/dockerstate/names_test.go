package dockerstate

import (
	"regexp"
	"testing"
)

func TestContainerNameFollowsTheECSAgentPattern(t *testing.T) {
	// Docker's own rule for container names.
	dockerName := regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)
	tests := []struct {
		family, name string
		revision     int64
		prefix       string
	}{
		{"web", "app", 3, "ecs-web-3-app-"},
		{"my_family-1", "side-car", 12, "ecs-my_family-1-12-side-car-"},
		{"fam", "under_score and space/slash", 1, "ecs-fam-1-underscoreandspaceslash-"},
		{"bad:family/x", "c", 7, "ecs-badfamilyx-7-c-"},
	}
	for _, tt := range tests {
		got := ContainerName(tt.family, tt.revision, tt.name)
		re := regexp.MustCompile("^" + regexp.QuoteMeta(tt.prefix) + "[0-9a-f]{20}$")
		if !re.MatchString(got) {
			t.Errorf("ContainerName(%q, %d, %q) = %q; want %s<20 hex>", tt.family, tt.revision, tt.name, got, tt.prefix)
		}
		if !dockerName.MatchString(got) {
			t.Errorf("ContainerName(%q, %d, %q) = %q, which Docker refuses", tt.family, tt.revision, tt.name, got)
		}
	}
}

func TestContainerNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		n := ContainerName("web", 1, "app")
		if seen[n] {
			t.Fatalf("ContainerName repeated %q", n)
		}
		seen[n] = true
	}
}

func TestLabelsForCarriesTheECSLabels(t *testing.T) {
	got := LabelsFor("arn:aws:ecs:local:000000000000:task/c/abc", "app", "web", 42, "c")
	want := map[string]string{
		"com.amazonaws.ecs.task-arn":                "arn:aws:ecs:local:000000000000:task/c/abc",
		"com.amazonaws.ecs.container-name":          "app",
		"com.amazonaws.ecs.task-definition-family":  "web",
		"com.amazonaws.ecs.task-definition-version": "42",
		"com.amazonaws.ecs.cluster":                 "c",
	}
	if len(got) != len(want) {
		t.Fatalf("LabelsFor = %v; want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("label %s = %q; want %q", k, got[k], v)
		}
	}
}
