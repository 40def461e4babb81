package acs

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// credentialsMarker replaces the secret parts of decoded credentials: no
// %v or %+v of a message may show it.
const credentialsMarker = "zzFUZZSECRETzz"

// FuzzDecode holds Decode to three properties on any frame: it fails only
// with an error that says it was decoding an ACS frame (or wraps
// ErrUnknownType); what it decodes encodes to a frame that decodes and
// encodes to the same bytes; and a message's %v or %+v never shows role
// credentials' secret key or session token.
func FuzzDecode(f *testing.F) {
	seq := int64(7)
	cpu := 0.5
	for _, msg := range []any{
		&PayloadMessage{MessageID: "p1", ClusterArn: "arn:c", ContainerInstanceArn: "arn:ci", SeqNum: &seq, Tasks: []Task{{
			Arn: "arn:aws:ecs:us-west-2:1:task/c/t1", Family: "web", Version: "3", DesiredStatus: "RUNNING", CPU: &cpu,
			Containers:      []Container{{Name: "app", Image: "nginx", Essential: true, Environment: map[string]string{"K": "V"}}},
			RoleCredentials: &IAMRoleCredentials{CredentialsID: "c1", AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "token"},
		}}},
		&IAMRoleCredentialsMessage{MessageID: "m2", RoleCredentials: &IAMRoleCredentials{CredentialsID: "c2", SecretAccessKey: "s", SessionToken: "t"}},
		&HeartbeatMessage{MessageID: "h1"},
		&TaskManifestMessage{MessageID: "tm1"},
		&TaskStopVerificationAck{MessageID: "v1"},
		&CloseMessage{},
		&ErrorMessage{},
		&Exception{Type: ExceptionInactiveInstance, Message: "gone"},
	} {
		frame, err := Encode(msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	f.Add([]byte(`{"type":"AttachTaskNetworkInterfacesMessage","message":{}}`))
	f.Add([]byte(`{"type":"PayloadMessage","message":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrUnknownType) && !strings.HasPrefix(err.Error(), "decode ACS ") {
				t.Fatalf("error %q does not say it was decoding an ACS frame", err)
			}
			return
		}
		checkStable(t, msg)
		checkCredentialsHidden(t, msg)
	})
}

func checkStable(t *testing.T, msg any) {
	t.Helper()
	first, err := Encode(msg)
	if err != nil {
		t.Fatalf("decoded %T does not encode: %v", msg, err)
	}
	again, err := Decode(first)
	if err != nil {
		t.Fatalf("encoded %T does not decode: %v\n%s", msg, err, first)
	}
	second, err := Encode(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("decode and encode is not stable:\nfirst:  %s\nsecond: %s", first, second)
	}
}

func checkCredentialsHidden(t *testing.T, msg any) {
	t.Helper()
	var creds []*IAMRoleCredentials
	switch m := msg.(type) {
	case *IAMRoleCredentialsMessage:
		creds = append(creds, m.RoleCredentials)
	case *PayloadMessage:
		for i := range m.Tasks {
			creds = append(creds, m.Tasks[i].RoleCredentials, m.Tasks[i].ExecutionRoleCredentials)
		}
	}
	for _, c := range creds {
		if c == nil {
			continue
		}
		c.SecretAccessKey, c.SessionToken = credentialsMarker, credentialsMarker
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if s := fmt.Sprintf(verb, c); strings.Contains(s, credentialsMarker) {
				t.Fatalf("%s of credentials shows a secret: %s", verb, s)
			}
			if s := fmt.Sprintf(verb, *c); strings.Contains(s, credentialsMarker) {
				t.Fatalf("%s of credentials shows a secret: %s", verb, s)
			}
		}
	}
	for _, verb := range []string{"%v", "%+v"} {
		if s := fmt.Sprintf(verb, msg); strings.Contains(s, credentialsMarker) {
			t.Fatalf("%s of a %T shows a credentials secret: %s", verb, msg, s)
		}
	}
}
