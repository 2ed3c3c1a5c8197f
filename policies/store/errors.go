package store

import "github.com/day2bot/day2bot/internal/errs"

// The store's user errors are *errs.Error: an unknown id is errs.NotFound;
// a duplicate (rule, member, principal), an approval that is no longer
// pending, a run not in the expected state and a second vote are
// errs.Conflict; a vote on one's own request is errs.Permission; bad input
// is errs.Invalid. Anything else is an internal error.

// notFound is the NotFound error for an unknown what (approval, run, rule…).
func notFound(op, what, id string) error {
	return errs.E(op, errs.NotFound, "no %s %s", what, quote(id))
}

func quote(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
