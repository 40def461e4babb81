package fakeaws

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Secrets Manager's staging labels.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
)

// Secret is one Secrets Manager secret and its versions.
type Secret struct {
	Name string
	// ARN is arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6
	// random characters>, as Secrets Manager makes them.
	ARN      string
	Versions []SecretVersion
	// Readers are the role ARNs that may read it; none means every caller.
	Readers []string
}

// SecretVersion is one version of a secret.
type SecretVersion struct {
	ID     string
	Stages []string
	String string
}

// PutSecret stores value as the secret's new AWSCURRENT version (the old
// current one becomes AWSPREVIOUS), creating the secret with the readers
// given if it does not exist, and returns the secret's ARN and the
// version's id.
func (f *Fake) PutSecret(name, value string, readers ...string) (arn, versionID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s *Secret
	for _, sec := range f.secrets {
		if sec.Name == name {
			s = sec
		}
	}
	if s == nil {
		s = &Secret{Name: name, Readers: readers,
			ARN: fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", f.region(), Account, name, randomHex(3))}
		f.secrets[s.ARN] = s
	}
	for i := range s.Versions {
		v := &s.Versions[i]
		v.Stages = slices.DeleteFunc(v.Stages, func(st string) bool { return st == StagePrevious })
		if slices.Contains(v.Stages, StageCurrent) {
			v.Stages = []string{StagePrevious}
		}
	}
	versionID = fmt.Sprintf("%s-%s-%s-%s-%s", randomHex(4), randomHex(2), randomHex(2), randomHex(2), randomHex(6))
	s.Versions = append(s.Versions, SecretVersion{ID: versionID, Stages: []string{StageCurrent}, String: value})
	return s.ARN, versionID
}

// findSecret resolves a SecretId: a name, a full ARN or an ARN without
// the random suffix. f.mu must be held.
func (f *Fake) findSecret(id string) *Secret {
	if s, ok := f.secrets[id]; ok {
		return s
	}
	for _, s := range f.secrets {
		if s.Name == id || (strings.HasPrefix(id, "arn:") && strings.HasPrefix(s.ARN, id+"-") && len(s.ARN) == len(id)+7) {
			return s
		}
	}
	return nil
}

// serveSecretsManager answers secretsmanager.GetSecretValue.
func (f *Fake) serveSecretsManager(w http.ResponseWriter, r *http.Request, body []byte, who caller) {
	_, action := service(r)
	call := Call{Service: "secretsmanager", Action: action, Principal: who.principal}
	code, msg := f.injected(action), "injected failure"
	if code == "" && action != "GetSecretValue" {
		code, msg = "UnknownOperationException", "this fake serves GetSecretValue, not "+action
	}
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string
	}
	if code == "" {
		if err := json.Unmarshal(body, &in); err != nil || in.SecretID == "" {
			code, msg = "InvalidParameterException", "SecretId is required"
		}
	}
	if code == "" {
		code, msg = f.getSecretValue(w, in.SecretID, in.VersionID, in.VersionStage, who)
	}
	if code != "" {
		writeJSONError(w, http.StatusBadRequest, code, msg)
	}
	call.Error = code
	f.record(call)
}

func (f *Fake) getSecretValue(w http.ResponseWriter, id, versionID, stage string, who caller) (code, msg string) {
	f.mu.Lock()
	s := f.findSecret(id)
	var sec Secret
	if s != nil {
		sec = *s
		sec.Versions = slices.Clone(s.Versions)
	}
	f.mu.Unlock()
	if s == nil {
		return "ResourceNotFoundException", "Secrets Manager can't find the specified secret."
	}
	if len(sec.Readers) > 0 && !slices.Contains(sec.Readers, who.role) {
		return "AccessDeniedException", fmt.Sprintf("User: %s is not authorized to perform: secretsmanager:GetSecretValue on resource: %s because no identity-based policy allows the secretsmanager:GetSecretValue action", who.principal, id)
	}
	if versionID == "" && stage == "" {
		stage = StageCurrent
	}
	for _, v := range sec.Versions {
		if (versionID == "" || v.ID == versionID) && (stage == "" || slices.Contains(v.Stages, stage)) {
			writeJSON(w, map[string]any{
				"ARN": sec.ARN, "Name": sec.Name, "VersionId": v.ID, "SecretString": v.String,
				"VersionStages": v.Stages, "CreatedDate": float64(time.Now().Unix()),
			})
			return "", ""
		}
	}
	if versionID != "" {
		return "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: " + versionID
	}
	return "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: " + stage
}
