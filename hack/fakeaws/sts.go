package fakeaws

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// stsXMLNS is the namespace of STS's answers.
const stsXMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"

// serveSTS answers the query protocol: a form-encoded POST with Action
// and Version.
func (f *Fake) serveSTS(w http.ResponseWriter, r *http.Request, who caller) {
	if err := r.ParseForm(); err != nil {
		writeQueryError(w, http.StatusBadRequest, "MalformedQueryString", "the body is not a form")
		return
	}
	action := r.PostForm.Get("Action")
	call := Call{Service: "sts", Action: action, Principal: who.principal}
	code, status, msg := "", 0, ""
	switch {
	case r.Method != http.MethodPost:
		code, status, msg = "InvalidAction", http.StatusBadRequest, "STS takes POST"
	case r.PostForm.Get("Version") != "2011-06-15":
		code, status, msg = "InvalidAction", http.StatusBadRequest, "unknown Version "+r.PostForm.Get("Version")
	default:
		code = f.injected(action)
		status, msg = http.StatusForbidden, "injected failure"
		if code == "ServiceUnavailable" {
			status = http.StatusServiceUnavailable
		}
	}
	if code == "" {
		switch action {
		case "AssumeRole":
			code, status, msg = f.assumeRole(w, r, who)
		case "GetCallerIdentity":
			f.getCallerIdentity(w, who)
		default:
			code, status, msg = "InvalidAction", http.StatusBadRequest, "Could not find operation "+action+" for version 2011-06-15"
		}
	}
	if code != "" {
		writeQueryError(w, status, code, msg)
	}
	call.Error = code
	f.record(call)
}

// assumeRole answers AssumeRole, or returns the error to answer.
func (f *Fake) assumeRole(w http.ResponseWriter, r *http.Request, who caller) (code string, status int, msg string) {
	roleArn := r.PostForm.Get("RoleArn")
	session := r.PostForm.Get("RoleSessionName")
	if len(session) < 2 || len(session) > 64 || strings.IndexFunc(session, badSessionChar) >= 0 {
		return "ValidationError", http.StatusBadRequest, fmt.Sprintf("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint", session)
	}
	secs := 3600
	if d := r.PostForm.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 43200 {
			return "ValidationError", http.StatusBadRequest, "DurationSeconds must be between 900 and 43200"
		}
		secs = n
	}
	f.mu.Lock()
	ro, exists := f.roles[roleArn]
	f.mu.Unlock()
	denied := fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", who.principal, roleArn)
	switch {
	case !exists:
		// STS does not say whether the role exists.
		return "AccessDenied", http.StatusForbidden, denied
	case who.role != "" || (len(ro.trusts) > 0 && !slices.Contains(ro.trusts, who.principal)):
		return "AccessDenied", http.StatusForbidden, denied
	}
	life := time.Duration(secs) * time.Second
	if f.opts.Lifetime > 0 {
		life = f.opts.Lifetime
	}
	now := f.opts.Now()
	id := "ASIA" + strings.ToUpper(randomHex(8))
	roleID := "AROA" + strings.ToUpper(randomHex(8))
	name := roleArn[strings.LastIndexByte(roleArn, '/')+1:]
	k := &key{
		secret:    randomHex(20),
		token:     "FQoGZXIvYXdzE" + randomHex(32),
		expires:   now.Add(life),
		principal: fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", Account, name, session),
		role:      roleArn,
		userID:    roleID + ":" + session,
	}
	f.mu.Lock()
	f.keys[id] = k
	f.mu.Unlock()
	type credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
	type assumed struct {
		Arn           string
		AssumedRoleID string `xml:"AssumedRoleId"`
	}
	writeQuery(w, "AssumeRole", struct {
		Credentials     credentials
		AssumedRoleUser assumed
	}{
		Credentials:     credentials{id, k.secret, k.token, k.expires.UTC().Format(time.RFC3339)},
		AssumedRoleUser: assumed{k.principal, k.userID},
	})
	return "", 0, ""
}

func badSessionChar(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+=,.@_-", r))
}

func (f *Fake) getCallerIdentity(w http.ResponseWriter, who caller) {
	writeQuery(w, "GetCallerIdentity", struct {
		Arn     string
		UserID  string `xml:"UserId"`
		Account string
	}{who.principal, who.userID, Account})
}

// writeQuery writes an action's answer: <ActionResponse><ActionResult>…
func writeQuery(w http.ResponseWriter, action string, result any) {
	type metadata struct {
		RequestID string `xml:"RequestId"`
	}
	out, err := xml.Marshal(struct {
		XMLName  xml.Name
		Result   wrapped
		Metadata metadata `xml:"ResponseMetadata"`
	}{
		XMLName:  xml.Name{Space: stsXMLNS, Local: action + "Response"},
		Result:   wrapped{name: action + "Result", v: result},
		Metadata: metadata{randomHex(16)},
	})
	if err != nil {
		writeQueryError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(append([]byte(xml.Header), out...))
}

// wrapped marshals v under an element named name.
type wrapped struct {
	name string
	v    any
}

func (x wrapped) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	return e.EncodeElement(x.v, xml.StartElement{Name: xml.Name{Local: x.name}})
}

// writeQueryError writes the query protocol's error document.
func writeQueryError(w http.ResponseWriter, status int, code, msg string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	type errorBody struct {
		Type    string
		Code    string
		Message string
	}
	out, _ := xml.Marshal(struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Xmlns     string   `xml:"xmlns,attr"`
		Error     errorBody
		RequestID string `xml:"RequestId"`
	}{Xmlns: stsXMLNS, Error: errorBody{typ, code, msg}, RequestID: randomHex(16)})
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), out...))
}
