// Package errs is day2bot's one error vocabulary, in the spirit of Upspin's
// errors package: an Error says what operation failed (Op), what kind of
// failure it was (Kind) and, for the person in chat, what to do about it
// (Msg). Everything that reaches a user goes through Render, which completes
// the message by kind: a Permission error names the IAM action to add, a
// Transient one says to try again, and an Internal one is "see logs".
//
// Packages return *Error where the cause is the user's (a typo, a missing
// resource, a vote that is not allowed) or the environment's (AWS denied,
// throttled); they keep plain fmt.Errorf("verb noun: %w") for everything
// else. Callers ask errors.As/KindOf/Is, never compare message strings.
package errs

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error by what the user can do about it.
type Kind uint8

const (
	// Internal is a fault in day2bot or a failure nobody in chat can act
	// on; chat says "see logs". It is the zero Kind, so a wrapper that
	// only adds an Op inherits the kind of what it wraps.
	Internal Kind = iota
	// Invalid is input that can never work as given: a typo, a value out
	// of range, a bad policy or blueprint file.
	Invalid
	// NotFound is a name that does not resolve: an app, a task, an
	// approval id, an AWS resource.
	NotFound
	// Permission is a refusal: AWS denied the call (IAMAction says which
	// permission to add) or the user may not do this.
	Permission
	// Conflict is a request that is fine but not now: the approval was
	// already decided, the stack is mid-update, the vote was cast.
	Conflict
	// Transient is a failure that is likely to pass: throttling, a 5xx.
	Transient
)

var kindNames = [...]string{
	Internal:   "internal",
	Invalid:    "invalid",
	NotFound:   "not found",
	Permission: "permission",
	Conflict:   "conflict",
	Transient:  "transient",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is one failure: Op is the operation ("parse parameter batch",
// "reboot instance"), Kind what sort of failure, Msg the sentence for a
// person (may be empty), IAMAction the permission AWS wanted, Err the cause.
type Error struct {
	Op        string
	Kind      Kind
	Msg       string
	IAMAction string
	Err       error
}

// E returns an error of kind with a message and no cause. format is a
// printf format, checked by go vet like fmt's.
func E(op string, kind Kind, format string, args ...any) error {
	return &Error{Op: op, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind wrapping err. format may be "": the message
// then comes from err when err is itself renderable.
func Wrap(op string, kind Kind, err error, format string, args ...any) error {
	return &Error{Op: op, Kind: kind, Msg: fmt.Sprintf(format, args...), Err: err}
}

func (e *Error) Unwrap() error { return e.Err }

// Error is for logs: the user's sentence and the cause, or "op: cause".
func (e *Error) Error() string {
	msg := e.text()
	cause := ""
	if e.Err != nil {
		cause = e.Err.Error()
	}
	switch {
	case msg == "" && cause == "":
		return e.Op
	case msg == "":
		if e.Op == "" {
			return cause
		}
		return e.Op + ": " + cause
	case cause == "" || strings.Contains(msg, cause):
		return msg
	case strings.Contains(cause, msg):
		return cause // the cause already says it
	default:
		return msg + ": " + cause
	}
}

// text is Msg completed by kind; "" when the error has no message of its own.
func (e *Error) text() string {
	msg := e.Msg
	if msg == "" {
		return ""
	}
	switch e.Kind {
	case Permission:
		if e.IAMAction != "" && !strings.Contains(msg, e.IAMAction) {
			msg += fmt.Sprintf(": the app's IAM role needs permission %q", e.IAMAction)
		}
	case Transient:
		if !strings.Contains(msg, "try again") {
			msg += "; try again in a minute"
		}
	}
	return msg
}

// KindOf is the first non-Internal kind in err's tree (depth first, as
// errors.As looks); Internal when none.
func KindOf(err error) Kind {
	for err != nil {
		if e, ok := err.(*Error); ok && e.Kind != Internal {
			return e.Kind
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				if k := KindOf(e); k != Internal {
					return k
				}
			}
			return Internal
		}
		err = errors.Unwrap(err)
	}
	return Internal
}

// Is reports whether err is of kind k.
func Is(k Kind, err error) bool { return err != nil && KindOf(err) == k }

// IAMActionOf is the IAM permission a Permission error names, or "".
func IAMActionOf(err error) string {
	var e *Error
	for errors.As(err, &e) {
		if e.IAMAction != "" {
			return e.IAMAction
		}
		err = e.Err
	}
	return ""
}

// Render is the sentence to show a person for err, and whether there is one.
// It is the message of the outermost Error that has one; an Error of a
// user-facing kind without a message of its own shows its cause; joined
// errors show one line each, and only if every one of them can be shown.
// ok is false for internal errors: the caller says "see logs" and logs err.
func Render(err error) (msg string, ok bool) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if j, isJoin := e.(interface{ Unwrap() []error }); isJoin {
			return renderAll(j.Unwrap())
		}
		x, isErr := e.(*Error)
		if !isErr {
			continue
		}
		if t := x.text(); t != "" {
			return t, true
		}
		if x.Kind != Internal && x.Err != nil {
			if t, ok := Render(x.Err); ok {
				return t, true
			}
			return x.Err.Error(), true
		}
	}
	return "", false
}

func renderAll(list []error) (string, bool) {
	msgs := make([]string, 0, len(list))
	for _, e := range list {
		m, ok := Render(e)
		if !ok {
			return "", false
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "\n"), len(msgs) > 0
}

// Text is Render's message, or fallback for an internal error.
func Text(err error, fallback string) string {
	if msg, ok := Render(err); ok {
		return msg
	}
	return fallback
}
