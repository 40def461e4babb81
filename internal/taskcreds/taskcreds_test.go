package taskcreds

import (
	"fmt"
	"strings"
	"testing"
)

func TestRenewalUnderANewIDReplacesTheOldOne(t *testing.T) {
	s := New()
	s.Set(Credentials{ID: "a", TaskArn: "t", RoleType: RoleTask, AccessKeyID: "AK1"})
	s.Set(Credentials{ID: "x", TaskArn: "t", RoleType: RoleExecution})
	s.Set(Credentials{ID: "b", TaskArn: "t", RoleType: RoleTask, AccessKeyID: "AK2"})
	if _, ok := s.Get("a"); ok {
		t.Error("the renewed id a still answers")
	}
	if c, ok := s.ForTask("t", RoleTask); !ok || c.ID != "b" || c.AccessKeyID != "AK2" {
		t.Errorf("task role credentials %v %v, want the renewal b", c, ok)
	}
	if c, ok := s.Get("x"); !ok || c.RoleType != RoleExecution {
		t.Errorf("execution role credentials %v %v", c, ok)
	}
	s.Forget("t")
	if s.Len() != 0 {
		t.Errorf("%d credentials left after Forget", s.Len())
	}
}

func TestCredentialsNeverPrintTheirSecrets(t *testing.T) {
	c := Credentials{ID: "id1", AccessKeyID: "AKIDPRIVATE", SecretAccessKey: "s3cr3t", SessionToken: "t0k3n"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "s3cr3t") || strings.Contains(s, "t0k3n") || strings.Contains(s, "AKIDPRIVATE") || !strings.Contains(s, "id1") {
			t.Errorf("printed as %q", s)
		}
	}
}
