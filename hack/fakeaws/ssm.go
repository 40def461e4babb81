package fakeaws

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Parameter types of SSM Parameter Store.
const (
	ParameterString       = "String"
	ParameterSecureString = "SecureString"
)

// Parameter is one SSM parameter.
type Parameter struct {
	// Name is the parameter's name: "/path/name" or "name".
	Name  string
	Value string
	// Type is ParameterString (the default) or ParameterSecureString.
	Type string
	// Readers are the role ARNs that may read it; none means every caller.
	Readers []string
}

// PutParameter creates or replaces a parameter and returns its ARN.
func (f *Fake) PutParameter(p Parameter) string {
	if p.Type == "" {
		p.Type = ParameterString
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.params[p.Name] = &p
	return f.parameterARN(p.Name)
}

func (f *Fake) parameterARN(name string) string {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", f.region(), Account, name)
}

// parameterName is the name an ARN or a name given to GetParameters means.
func parameterName(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	_, name, ok := strings.Cut(s, ":parameter")
	if !ok {
		return s
	}
	// "…:parameter/name" is "name"; "…:parameter/path/name" is "/path/name".
	if strings.Count(name, "/") == 1 {
		return strings.TrimPrefix(name, "/")
	}
	return name
}

type ssmParameter struct {
	Name             string
	Type             string
	Value            string
	Version          int64
	ARN              string
	DataType         string
	LastModifiedDate float64
}

// serveSSM answers AmazonSSM.GetParameters and AmazonSSM.GetParameter.
func (f *Fake) serveSSM(w http.ResponseWriter, r *http.Request, body []byte, who caller) {
	_, action := service(r)
	call := Call{Service: "ssm", Action: action, Principal: who.principal}
	var in struct {
		Names          []string
		Name           string
		WithDecryption bool
	}
	code, msg := f.injected(action), "injected failure"
	if code == "" {
		if err := json.Unmarshal(body, &in); err != nil {
			code, msg = "SerializationException", "body is not JSON"
		}
	}
	if code == "" {
		switch action {
		case "GetParameters":
			if len(in.Names) == 0 || len(in.Names) > 10 {
				code, msg = "ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10"
				break
			}
			var out struct {
				Parameters        []ssmParameter
				InvalidParameters []string
			}
			out.Parameters, out.InvalidParameters = []ssmParameter{}, []string{}
			for _, n := range in.Names {
				p, denied := f.readParameter(n, in.WithDecryption, who)
				switch {
				case denied != "":
					code, msg = "AccessDeniedException", denied
				case p == nil:
					out.InvalidParameters = append(out.InvalidParameters, n)
				default:
					out.Parameters = append(out.Parameters, *p)
				}
			}
			if code == "" {
				writeJSON(w, out)
			}
		case "GetParameter":
			p, denied := f.readParameter(in.Name, in.WithDecryption, who)
			switch {
			case denied != "":
				code, msg = "AccessDeniedException", denied
			case p == nil:
				code, msg = "ParameterNotFound", ""
			default:
				writeJSON(w, struct{ Parameter ssmParameter }{*p})
			}
		default:
			code, msg = "UnknownOperationException", "this fake serves GetParameters and GetParameter, not "+action
		}
	}
	if code != "" {
		writeJSONError(w, http.StatusBadRequest, code, msg)
	}
	call.Error = code
	f.record(call)
}

// readParameter returns the parameter named (nil if there is none) or why
// the caller may not read it.
func (f *Fake) readParameter(nameOrARN string, decrypt bool, who caller) (*ssmParameter, string) {
	name := parameterName(nameOrARN)
	f.mu.Lock()
	p, ok := f.params[name]
	f.mu.Unlock()
	if !ok {
		return nil, ""
	}
	arn := f.parameterARN(name)
	if len(p.Readers) > 0 && !slices.Contains(p.Readers, who.role) {
		return nil, fmt.Sprintf("User: %s is not authorized to perform: ssm:GetParameters on resource: %s", who.principal, arn)
	}
	value := p.Value
	if p.Type == ParameterSecureString && !decrypt {
		// What SSM gives without WithDecryption: the KMS ciphertext.
		value = base64.StdEncoding.EncodeToString([]byte("kms-ciphertext:" + randomHex(16)))
	}
	return &ssmParameter{
		Name: name, Type: p.Type, Value: value, Version: 1, ARN: arn, DataType: "text",
		LastModifiedDate: float64(time.Now().Unix()),
	}, ""
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", randomHex(16))
	_ = json.NewEncoder(w).Encode(v)
}
