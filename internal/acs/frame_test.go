package acs

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestAgentMessagesEncodeAsTypeWrappedFramesWithModelNames(t *testing.T) {
	cases := []struct {
		msg  any
		want string
	}{
		{&AckRequest{Cluster: "c", ContainerInstance: "ci", MessageID: "m1"},
			`{"type":"AckRequest","message":{"cluster":"c","containerInstance":"ci","messageId":"m1"}}`},
		{&HeartbeatAckRequest{MessageID: "h1"}, `{"type":"HeartbeatAckRequest","message":{"messageId":"h1"}}`},
		{&IAMRoleCredentialsAckRequest{MessageID: "m2", CredentialsID: "cred", Expiration: "2030-01-01T00:00:00Z"},
			`{"type":"IAMRoleCredentialsAckRequest","message":{"messageId":"m2","credentialsId":"cred","expiration":"2030-01-01T00:00:00Z"}}`},
		{&TaskStopVerificationMessage{MessageID: "man", StopCandidates: []TaskIdentifier{{TaskArn: "a", TaskClusterArn: "c", DesiredStatus: "STOPPED"}}},
			`{"type":"TaskStopVerificationMessage","message":{"messageId":"man","stopCandidates":[{"taskArn":"a","taskClusterArn":"c","desiredStatus":"STOPPED"}]}}`},
		// Absent members are left out, never sent as "" or null.
		{&AckRequest{MessageID: "m3"}, `{"type":"AckRequest","message":{"messageId":"m3"}}`},
	}
	for _, c := range cases {
		got, err := Encode(c.msg)
		if err != nil {
			t.Fatalf("Encode(%T): %v", c.msg, err)
		}
		if string(got) != c.want {
			t.Errorf("Encode(%T):\n got %s\nwant %s", c.msg, got, c.want)
		}
	}
	if _, err := Encode(struct{}{}); err == nil {
		t.Error("Encode of a non-ACS type succeeded; want an error")
	}
}

func TestServerFramesDecodeIntoTheirTypes(t *testing.T) {
	payload := `{"type":"PayloadMessage","message":{"messageId":"p1","clusterArn":"arn:c","containerInstanceArn":"arn:ci","seqNum":7,
	  "generatedAt":1700000000,"tasks":[{"arn":"arn:t","family":"web","version":"3","desiredStatus":"RUNNING","cpu":0.25,"memory":512,
	  "overrides":"{}","roleCredentials":{"credentialsId":"cid","roleArn":"arn:role","accessKeyId":"AK","secretAccessKey":"SK","sessionToken":"ST","expiration":"x"},
	  "containers":[{"name":"web","image":"nginx","cpu":10,"memory":64,"essential":true,"environment":{"A":"1"},
	    "portMappings":[{"containerPort":80,"hostPort":0,"protocol":"tcp"}],
	    "dockerConfig":{"config":"{\"User\":\"app\"}","hostConfig":"{}","version":"1.19"},"overrides":"{\"command\":[\"x\"]}"}]}]}}`
	m, err := Decode([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := m.(*PayloadMessage)
	if !ok {
		t.Fatalf("decoded %T, want *PayloadMessage", m)
	}
	task := p.Tasks[0]
	c := task.Containers[0]
	switch {
	case p.MessageID != "p1" || p.SeqNum == nil || *p.SeqNum != 7:
		t.Errorf("payload header %+v", p)
	case task.CPU == nil || *task.CPU != 0.25 || task.Memory == nil || *task.Memory != 512 || task.Version != "3":
		t.Errorf("task cpu/memory/version %v %v %q", task.CPU, task.Memory, task.Version)
	case task.RoleCredentials.SecretAccessKey != "SK" || task.RoleCredentials.CredentialsID != "cid":
		t.Errorf("role credentials %+v", *task.RoleCredentials)
	case !c.Essential || c.Environment["A"] != "1" || *c.PortMappings[0].ContainerPort != 80 || *c.DockerConfig.Config != `{"User":"app"}`:
		t.Errorf("container %+v", c)
	}

	for frame, want := range map[string]string{
		`{"type":"HeartbeatMessage","message":{"messageId":"h","healthy":true}}`:                            "HeartbeatMessage",
		`{"type":"IAMRoleCredentialsMessage","message":{"messageId":"m","roleType":"TaskExecution"}}`:       "IAMRoleCredentialsMessage",
		`{"type":"TaskManifestMessage","message":{"messageId":"m","timeline":5,"tasks":[{"taskArn":"a"}]}}`: "TaskManifestMessage",
		`{"type":"TaskStopVerificationAck","message":{"messageId":"m","stopTasks":[{"taskArn":"a"}]}}`:      "TaskStopVerificationAck",
		`{"type":"CloseMessage","message":{"message":"bye"}}`:                                               "CloseMessage",
		`{"type":"InvalidInstanceException","message":{"message":"no"}}`:                                    ExceptionInvalidInstance,
	} {
		m, err := Decode([]byte(frame))
		if err != nil {
			t.Errorf("Decode(%s): %v", frame, err)
			continue
		}
		if got := TypeName(m); got != want {
			t.Errorf("Decode(%s) is a %s, want %s", frame, got, want)
		}
	}
	if _, err := Decode([]byte(`{"type":"AttachTaskNetworkInterfacesMessage","message":{}}`)); !errors.Is(err, ErrUnknownType) {
		t.Errorf("unknown type: err %v, want ErrUnknownType", err)
	}
	if _, err := Decode([]byte(`{"type":`)); err == nil || errors.Is(err, ErrUnknownType) {
		t.Errorf("bad JSON: err %v, want a decode error", err)
	}
}

func TestRefusedUpgradeBodiesDecode(t *testing.T) {
	for body, want := range map[string]string{
		`{"InactiveInstanceException":"instance deregistered"}`:                             ExceptionInactiveInstance,
		`{"type":"AccessDeniedException","message":{"message":"signature does not match"}}`: ExceptionAccessDenied,
		string(EncodeRefusal(&Exception{Type: ExceptionBadRequest, Message: "seqNum"})):     ExceptionBadRequest,
	} {
		ex := DecodeRefusal([]byte(body))
		if ex == nil || ex.Type != want || ex.Message == "" {
			t.Errorf("DecodeRefusal(%s) = %+v, want a %s with its text", body, ex, want)
		}
	}
	for _, body := range []string{``, `<html>502</html>`, `{"Other":"x"}`} {
		if ex := DecodeRefusal([]byte(body)); ex != nil {
			t.Errorf("DecodeRefusal(%q) = %+v, want nil", body, ex)
		}
	}
}

func TestCredentialsNeverPrintTheirSecrets(t *testing.T) {
	c := IAMRoleCredentials{CredentialsID: "cid", AccessKeyID: "AKIDSECRETISH", SecretAccessKey: "s3cr3t", SessionToken: "t0k3n"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", &c), fmt.Sprintf("%v", &c)} {
		if strings.Contains(s, "s3cr3t") || strings.Contains(s, "t0k3n") || strings.Contains(s, "AKIDSECRETISH") || !strings.Contains(s, "cid") {
			t.Errorf("credentials printed as %q: want the id and no secret", s)
		}
	}
	// The wire form still carries them.
	b, _ := json.Marshal(c)
	if !strings.Contains(string(b), "s3cr3t") {
		t.Errorf("JSON %s lost the secret key", b)
	}
}

func TestURLCarriesEveryParameterSortedOnTheWebsocketScheme(t *testing.T) {
	p := Params{Cluster: "default", ContainerInstanceArn: "arn:aws:ecs:us-west-2:1:container-instance/default/abc",
		AgentVersion: "1.2.3", AgentHash: "abc1234", DockerVersion: "28.0.1", SendCredentials: true}
	got, err := URL("https://ecs-a-1.us-west-2.amazonaws.com", p)
	if err != nil {
		t.Fatal(err)
	}
	want := "wss://ecs-a-1.us-west-2.amazonaws.com/ws?agentHash=abc1234&agentVersion=1.2.3&clusterArn=default" +
		"&containerInstanceArn=arn%3Aaws%3Aecs%3Aus-west-2%3A1%3Acontainer-instance%2Fdefault%2Fabc" +
		"&dockerVersion=DockerVersion%3A+28.0.1&protocolVersion=2&sendCredentials=true&seqNum=1"
	if got != want {
		t.Errorf("URL:\n got %s\nwant %s", got, want)
	}
	p.DockerVersion, p.SendCredentials = "", false
	got, err = URL("http://127.0.0.1:8123/", p)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(got)
	if u.Scheme != "ws" || u.Path != "/ws" || u.Query().Has(ParamDockerVersion) || u.Query().Get(ParamSendCredentials) != "false" {
		t.Errorf("URL %s: want ws://…/ws, no dockerVersion, sendCredentials=false", got)
	}
	for _, bad := range []string{"ftp://x", "http://", "://"} {
		if _, err := URL(bad, p); err == nil {
			t.Errorf("URL(%q) succeeded; want an error", bad)
		}
	}
}
