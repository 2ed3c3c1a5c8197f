package store

import (
	"errors"
	"strings"
)

// Kinds of user errors. Test with errors.Is(err, store.ErrNotFound).
var (
	ErrNotFound      = errors.New("not found")
	ErrExists        = errors.New("already exists")
	ErrInvalid       = errors.New("invalid")
	ErrState         = errors.New("wrong state")   // approval not pending, run not in the expected state
	ErrSelfApproval  = errors.New("self approval") // the requester voted on their own request
	ErrDuplicateVote = errors.New("already voted")
)

// UserError is an error the caller caused (unknown id, duplicate rule,
// invalid policy file, a vote that is not allowed, a state conflict). The
// engine shows UserMessage to the user; anything else is an internal error.
type UserError struct {
	Kind  error  // one of the Err* kinds above
	Msg   string // a sentence for the user
	State string // for ErrState: the state the approval or run is in now
	Err   error  // the cause, if any
}

func (e *UserError) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	if m := e.Err.Error(); strings.Contains(m, e.Msg) {
		return m // the cause already says it
	}
	return e.Msg + ": " + e.Err.Error()
}

// UserMessage is the sentence to show the user.
func (e *UserError) UserMessage() string { return e.Msg }

// Is matches the error's kind, so errors.Is(err, ErrState) works.
func (e *UserError) Is(target error) bool { return target == e.Kind }

func (e *UserError) Unwrap() error { return e.Err }

func notFound(what, id string) error {
	return &UserError{Kind: ErrNotFound, Msg: "no " + what + " " + quote(id)}
}

func quote(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
