package bot

import "github.com/day2bot/day2bot/internal/errs"

// The engine's answers to what a person typed or clicked. Each is an
// errs.Error whose kind says what the person can do about it; reject shows
// its message in one line.

// usagef is a command that cannot work as typed: a typo, a missing
// argument, a stale button, a feature this deployment does not have.
func usagef(format string, args ...any) error {
	return errs.E("parse command", errs.Invalid, format, args...)
}

// notFoundf is a name that does not resolve: an app, task, rule, help topic.
func notFoundf(format string, args ...any) error {
	return errs.E("look up", errs.NotFound, format, args...)
}

// deniedf is a request this person may not make.
func deniedf(format string, args ...any) error {
	return errs.E("check permission", errs.Permission, format, args...)
}

// conflictf is a request that is fine but not now: already decided,
// expired, running elsewhere.
func conflictf(format string, args ...any) error {
	return errs.E("check state", errs.Conflict, format, args...)
}
