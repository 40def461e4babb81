// Package credentials holds the temporary AWS credentials of tasks' roles
// (task role and execution role) in memory, by task and role, and serves
// them by credentials id: what the credentials endpoint
// (/v2/credentials/<id>) answers with, and what the agent itself uses for
// a task's execution role (ECR pulls, secrets). Nothing here is ever
// written to disk, logged or printed: a Credentials value formats as its
// role and expiry only.
//
// Ids are minted by NewID (a random UUID, 122 random bits) and persisted,
// without the keys, in the task's Credentials objects (api/v1) by the
// credentials reconciler, which binds each id to its task and role here
// at start (Bind). After a restart the holder therefore knows every id
// but holds no keys: Lookup answers ErrNotYetAvailable (the endpoint's
// 503) until the keys are put in again, and ErrUnknownID (400) for an id
// it never bound.
//
// Keys come from two places, both with one call to Put:
//
//   - The ACS session (ECS tasks): for each IAMRoleCredentialsMessage and
//     for each roleCredentials / executionRoleCredentials of a payload's
//     task, once the task is persisted:
//
//     holder.Put(msg.TaskArn, apiv1.RoleType(msg.RoleType), credentials.Credentials{
//     RoleArn: rc.RoleArn, AccessKeyID: rc.AccessKeyId,
//     SecretAccessKey: rc.SecretAccessKey, SessionToken: rc.SessionToken,
//     Expiration: exp, // rc.Expiration parsed with time.RFC3339
//     }, apiv1.CredentialsFromACS)
//
//     ACS's credentialsId is not needed: the agent serves each (task,
//     role) under its own id, stable for the task's life, so a renewal
//     that carries a new credentialsId changes nothing for containers that
//     already run. Put may come before the task's id is bound (a payload
//     races the reconciler); the keys wait for it.
//
//   - The credentials reconciler (static tasks): STS AssumeRole with the
//     agent's own credentials (STS), refreshed well before expiry.
//
// Subscribe tells the reconcilers when a task's credentials changed.
package credentials

import (
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	apiv1 "github.com/ecs-agent/ecs-agent/api/v1"
)

// Credentials are one role's temporary AWS credentials. Every way of
// printing them (String, Format, %v, %+v, %#v) shows the role and the
// expiry, never the keys.
type Credentials struct {
	RoleArn         string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// String describes the credentials without their keys.
func (c Credentials) String() string {
	return fmt.Sprintf("credentials of %s expiring %s", c.RoleArn, c.Expiration.UTC().Format(time.RFC3339))
}

// Format implements fmt.Formatter so that no verb prints the keys.
func (c Credentials) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// Key names one role of one task.
type Key struct {
	TaskARN string
	Role    apiv1.RoleType
}

// NewID returns a new credentials id: a version 4 UUID from crypto/rand
// (google/uuid reads it without a pool), 122 random bits, the shape of the
// ids ECS mints.
func NewID() string { return uuid.NewString() }
