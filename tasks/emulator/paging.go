package emulator

import (
	"strconv"
	"strings"
)

// The emulator's list operations page by offset into the matching list.
// A token is a service prefix followed by the offset ("asgtok-50"), so a
// token of one operation family is refused by another, as in AWS; each
// service still answers a bad token or page size with its own error.

// parsePageSize reads a page size parameter: "" is def, anything outside
// [lo, hi] is refused.
func parsePageSize(v string, def, lo, hi int) (int, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// parsePageToken reads a token written by page: "" is the first page.
func parsePageToken(tok, prefix string) (int, bool) {
	if tok == "" {
		return 0, true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(tok, prefix))
	if err != nil || !strings.HasPrefix(tok, prefix) || n < 0 {
		return 0, false
	}
	return n, true
}

// page returns up to limit items of all from start (limit 0: all of them)
// and the token of the next page, "" on the last one. The lists only grow
// at the end, so pages neither skip nor repeat.
func page[T any](all []T, start, limit int, prefix string) ([]T, string) {
	start = min(start, len(all))
	end := len(all)
	if limit > 0 {
		end = min(start+limit, len(all))
	}
	if end < len(all) {
		return all[start:end], prefix + strconv.Itoa(end)
	}
	return all[start:end], ""
}
