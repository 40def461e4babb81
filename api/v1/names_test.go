package v1

import (
	"regexp"
	"strings"
	"testing"
)

func TestTaskNameFromARNIsTheTaskIDInEitherARNFormat(t *testing.T) {
	for _, tc := range []struct{ arn, want string }{
		{"arn:aws:ecs:us-east-1:123456789012:task/0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"},
		{"arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"},
		{"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"},
	} {
		if got := TaskNameFromARN(tc.arn); got != tc.want {
			t.Errorf("TaskNameFromARN(%q) = %q, want %q", tc.arn, got, tc.want)
		}
	}
}

// objectName is what the store and Docker accept as a name.
var objectName = regexp.MustCompile(`^[a-z0-9_][a-z0-9_.-]*$`)

func TestImageObjectNameIsAValidNameUniquePerReference(t *testing.T) {
	refs := []string{
		"nginx:1",
		"nginx-1",
		"NGINX:1",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com/app/web@sha256:" + strings.Repeat("ab", 32),
		"localhost:5055/" + strings.Repeat("very-long-name/", 20) + "img:latest",
		"-.odd",
	}
	seen := map[string]string{}
	for _, ref := range refs {
		name := ImageObjectName(ref)
		if !objectName.MatchString(name) || len(name) > 80+1+32 {
			t.Errorf("ImageObjectName(%q) = %q: not a valid name of at most 113 characters", ref, name)
		}
		if digest := name[strings.LastIndexByte(name, '-')+1:]; len(digest) != 32 {
			t.Errorf("ImageObjectName(%q) = %q: digest %q is not 128 bits", ref, name, digest)
		}
		if other, ok := seen[name]; ok {
			t.Errorf("ImageObjectName(%q) = ImageObjectName(%q) = %q", ref, other, name)
		}
		seen[name] = ref
		if again := ImageObjectName(ref); again != name {
			t.Errorf("ImageObjectName(%q) is %q, then %q", ref, name, again)
		}
	}
	if got := ImageObjectName("nginx:1"); !strings.HasPrefix(got, "nginx-1-") {
		t.Errorf("ImageObjectName(nginx:1) = %q, want it to read as the reference", got)
	}
}

func TestSanitizeNameReplacesRunsOfUnsafeCharactersAndTrimsTheEnds(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ecs-abc-data", "ecs-abc-data"},
		{"a b/c::d", "a-b-c-d"},
		{"..-x-..", "x"},
		{"My_Vol.1", "My_Vol.1"},
	} {
		if got := SanitizeName(tc.in); got != tc.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestImageIsBeingRemovedOnlyWhileCleanupMarksIt(t *testing.T) {
	var img Image
	if img.BeingRemoved() {
		t.Error("an unmarked image is being removed")
	}
	img.Annotations = map[string]string{"other": "x"}
	if img.BeingRemoved() {
		t.Error("an image with other annotations is being removed")
	}
	img.Annotations[AnnotationImageRemoving] = "2020-01-01T00:00:00Z"
	if !img.BeingRemoved() {
		t.Error("a marked image is not being removed")
	}
}

func TestHideValuesKeepsNamesAndHidesValues(t *testing.T) {
	task := &Task{Spec: TaskSpec{Containers: []ContainerSpec{{
		Name:             "app",
		Environment:      []KeyValue{{Name: "DB_PASSWORD", Value: "hunter2"}, {Name: "EMPTY"}},
		DockerLabels:     map[string]string{"token": "abc"},
		LogConfiguration: &LogConfiguration{LogDriver: "splunk", Options: map[string]string{"splunk-token": "xyz"}},
		Command:          []string{"serve"},
	}}}}
	task.HideValues()
	c := task.Spec.Containers[0]
	if c.Environment[0] != (KeyValue{Name: "DB_PASSWORD", Value: HiddenValue}) || c.Environment[1].Value != "" ||
		c.DockerLabels["token"] != HiddenValue || c.LogConfiguration.Options["splunk-token"] != HiddenValue ||
		c.LogConfiguration.LogDriver != "splunk" || c.Command[0] != "serve" {
		t.Fatalf("after HideValues: %+v", c)
	}
}
