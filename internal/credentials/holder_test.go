package credentials

import (
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Ids are UUIDv4s whose 122 free bits all vary: over many ids, every one
// of those bits is seen both set and clear, and no id repeats.
func TestIDsAreRandomVersion4UUIDs(t *testing.T) {
	const n = 2000
	seen := map[string]bool{}
	var ones, zeros [128]int
	for range n {
		id := NewID()
		if !uuidV4.MatchString(id) {
			t.Fatalf("id %q is not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
		b, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 128 {
			if b[i/8]&(0x80>>(i%8)) != 0 {
				ones[i]++
			} else {
				zeros[i]++
			}
		}
	}
	random := 0
	for i := range 128 {
		if ones[i] > 0 && zeros[i] > 0 {
			random++
		}
	}
	if random < 122 {
		t.Fatalf("%d bits vary across %d ids; want at least 122", random, n)
	}
}

func TestLookupTellsUnknownFromNotYetAvailable(t *testing.T) {
	h := NewHolder()
	k := Key{TaskARN: "arn:aws:ecs:us-west-2:1:task/c/t1", Role: apiv1.RoleTypeTask}
	id := NewID()
	if _, _, err := h.Lookup(id); !errors.Is(err, ErrUnknownID) {
		t.Fatalf("before Bind: %v; want ErrUnknownID", err)
	}
	h.Bind(id, k)
	if _, _, err := h.Lookup(id); !errors.Is(err, ErrNotYetAvailable) {
		t.Fatalf("bound, no credentials: %v; want ErrNotYetAvailable", err)
	}
	exp := time.Now().Add(time.Hour)
	h.Put(k.TaskARN, k.Role, Credentials{RoleArn: "arn:aws:iam::1:role/app", AccessKeyID: "ASIA1", SecretAccessKey: "s", SessionToken: "t", Expiration: exp}, apiv1.CredentialsFromACS)
	c, role, err := h.Lookup(id)
	if err != nil || c.AccessKeyID != "ASIA1" || role != apiv1.RoleTypeTask {
		t.Fatalf("after Put: %v, %s, %v", c, role, err)
	}
	h.Forget(k)
	if _, _, err := h.Lookup(id); !errors.Is(err, ErrUnknownID) {
		t.Fatalf("after Forget: %v; want ErrUnknownID", err)
	}
}

// ACS may put a task's credentials before the reconciler binds the
// task's id: they wait for it.
func TestCredentialsPutBeforeTheIDIsBoundAreServedOnceItIs(t *testing.T) {
	h := NewHolder()
	changed := 0
	cancel := h.Subscribe(func(Key) { changed++ })
	defer cancel()
	h.Put("arn:t1", apiv1.RoleTypeExecution, Credentials{AccessKeyID: "ASIA2"}, apiv1.CredentialsFromACS)
	id := NewID()
	h.Bind(id, Key{TaskARN: "arn:t1", Role: apiv1.RoleTypeExecution})
	if c, _, err := h.Lookup(id); err != nil || c.AccessKeyID != "ASIA2" {
		t.Fatalf("Lookup = %v, %v", c, err)
	}
	if changed != 2 {
		t.Fatalf("%d notifications; want one for the Put and one for the Bind", changed)
	}
}

func TestForRolePicksTheLatestExpiringCredentials(t *testing.T) {
	h := NewHolder()
	now := time.Now()
	h.Put("arn:t1", apiv1.RoleTypeExecution, Credentials{RoleArn: "arn:role/exec", AccessKeyID: "OLD", Expiration: now.Add(time.Minute)}, apiv1.CredentialsFromSTS)
	h.Put("arn:t2", apiv1.RoleTypeExecution, Credentials{RoleArn: "arn:role/exec", AccessKeyID: "NEW", Expiration: now.Add(time.Hour)}, apiv1.CredentialsFromSTS)
	h.Put("arn:t3", apiv1.RoleTypeTask, Credentials{RoleArn: "arn:role/exec", AccessKeyID: "TASK", Expiration: now.Add(2 * time.Hour)}, apiv1.CredentialsFromSTS)
	if c, ok := h.ForRole(apiv1.RoleTypeExecution, "arn:role/exec"); !ok || c.AccessKeyID != "NEW" {
		t.Fatalf("ForRole = %v, %v; want the execution role's credentials expiring last", c, ok)
	}
	if _, ok := h.ForRole(apiv1.RoleTypeExecution, "arn:role/other"); ok {
		t.Fatal("ForRole found credentials of a role nobody holds")
	}
}

func TestCredentialsNeverPrintTheirKeys(t *testing.T) {
	c := Credentials{RoleArn: "arn:aws:iam::1:role/app", AccessKeyID: "ASIAKEYID", SecretAccessKey: "very-secret", SessionToken: "token-value", Expiration: time.Now()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := fmt.Sprintf(verb, c) + fmt.Sprintf(verb, []Credentials{c}) + fmt.Sprintf(verb, struct{ C Credentials }{c})
		for _, secret := range []string{"ASIAKEYID", "very-secret", "token-value"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s prints %q: %s", verb, secret, out)
			}
		}
	}
}
