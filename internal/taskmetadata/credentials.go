package taskmetadata

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ecs-agent/ecs-agent/internal/credentials"
)

// CredentialsResponse is the credentials endpoint's answer, which the AWS
// SDKs' container credentials providers read.
type CredentialsResponse struct {
	RoleArn         string `json:"RoleArn"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

// CredentialsError is the credentials endpoint's error body (the ECS
// agent's errorMessage, untagged HTTPErrorCode included).
type CredentialsError struct {
	Code          string `json:"code"`
	Message       string `json:"message"`
	HTTPErrorCode int    `json:"HTTPErrorCode"`
}

// Error codes of the credentials endpoint.
const (
	ErrNoIDInRequest            = "NoIdInRequest"
	ErrInvalidIDInRequest       = "InvalidIdInRequest"
	ErrCredentialsUninitialized = "CredentialsUninitialized"
)

// credentials answers /v<version>/credentials: the ECS agent's checks in
// its order (no id, known id without credentials yet, unknown id).
func (s *Server) credentials(w http.ResponseWriter, version int, id string) {
	prefix := fmt.Sprintf("CredentialsV%dRequest: ", version)
	fail := func(code int, errCode, msg string) {
		writeJSON(w, code, CredentialsError{Code: errCode, Message: prefix + msg, HTTPErrorCode: code})
	}
	if id == "" {
		fail(http.StatusBadRequest, ErrNoIDInRequest, "No Credential ID in the request")
		return
	}
	c, _, err := s.opts.Credentials.Lookup(id)
	switch {
	case errors.Is(err, credentials.ErrNotYetAvailable):
		fail(http.StatusServiceUnavailable, ErrCredentialsUninitialized, "Credentials uninitialized for ID")
	case err != nil:
		fail(http.StatusBadRequest, ErrInvalidIDInRequest, "Credentials not found")
	default:
		writeJSON(w, http.StatusOK, CredentialsResponse{
			RoleArn: c.RoleArn, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
			Token: c.SessionToken, Expiration: c.Expiration.UTC().Format(time.RFC3339),
		})
	}
}
