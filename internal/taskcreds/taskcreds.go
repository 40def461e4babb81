// Package taskcreds holds the IAM role credentials ECS hands over for tasks
// (over ACS: in a payload's tasks and in credentials messages), in memory
// only. They are never written to the store, the logs or the CLI: after a
// restart ECS sends them again (the first ACS session of a process asks for
// them with sendCredentials=true).
//
// It is the holder the credentials reconciler and endpoint will read; this
// package only keeps them, by credentials id and by task and role.
package taskcreds

import (
	"fmt"
	"sync"
)

// Role types, as ACS names them.
const (
	RoleTask      = "TaskApplication"
	RoleExecution = "TaskExecution"
)

// Credentials are one role's temporary credentials for one task.
type Credentials struct {
	// ID is the credentials id (the path of the credentials endpoint).
	ID              string
	TaskArn         string
	RoleType        string
	RoleArn         string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Expiration is as ECS sent it (RFC 3339).
	Expiration string
}

// String names the credentials without their secrets.
func (c Credentials) String() string {
	return fmt.Sprintf("{id:%s task:%s role:%s %s expiration:%s}", c.ID, c.TaskArn, c.RoleType, c.RoleArn, c.Expiration)
}

// Format makes every verb print String's redacted form.
func (c Credentials) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// Store keeps credentials by id and by task and role. The zero value is not
// usable: call New. It is safe for concurrent use.
type Store struct {
	mu     sync.RWMutex
	byID   map[string]Credentials
	byTask map[string]map[string]string // task ARN → role type → id
}

// New returns an empty Store.
func New() *Store {
	return &Store{byID: map[string]Credentials{}, byTask: map[string]map[string]string{}}
}

// Set keeps c as the task's credentials of its role. A renewal under a new
// id replaces the old id, which then answers no more.
func (s *Store) Set(c Credentials) {
	s.mu.Lock()
	defer s.mu.Unlock()
	roles := s.byTask[c.TaskArn]
	if roles == nil {
		roles = map[string]string{}
		s.byTask[c.TaskArn] = roles
	}
	if old, ok := roles[c.RoleType]; ok && old != c.ID {
		delete(s.byID, old)
	}
	roles[c.RoleType] = c.ID
	s.byID[c.ID] = c
}

// Get returns the credentials of an id.
func (s *Store) Get(id string) (Credentials, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.byID[id]
	return c, ok
}

// ForTask returns a task's credentials of a role.
func (s *Store) ForTask(taskArn, roleType string) (Credentials, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.byID[s.byTask[taskArn][roleType]]
	return c, ok
}

// Forget drops every credentials of a task (it is gone).
func (s *Store) Forget(taskArn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.byTask[taskArn] {
		delete(s.byID, id)
	}
	delete(s.byTask, taskArn)
}

// Len is the number of credentials held.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byID)
}
