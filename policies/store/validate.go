package store

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies"
)

// validateFile checks f as a whole — the evaluator's own validation, the
// rules compile together, and no principal belongs to two people — and
// returns an errs.Invalid error naming what is wrong (for the evaluator's
// findings, the problem list of a *policies.ValidationError).
func validateFile(f policies.File) error {
	invalid := func(err error) error {
		return errs.Wrap("validate policy file", errs.Invalid, err, "%s", errs.Text(err, err.Error()))
	}
	if err := policies.ValidateFile(f); err != nil {
		return invalid(err)
	}
	if _, err := policies.Compile(f.Rules); err != nil {
		return invalid(err)
	}
	owner := map[string]string{}
	for _, h := range sortedKeys(f.Users) {
		if h == "" {
			return invalid(errors.New("users: empty handle"))
		}
		for _, p := range f.Users[h] {
			if p == "" {
				return invalid(fmt.Errorf("users: %s: empty principal", h))
			}
			if o, ok := owner[p]; ok {
				return invalid(fmt.Errorf("users: %s: principal %s already belongs to %s", h, p, o))
			}
			owner[p] = h
		}
	}
	for _, g := range sortedKeys(f.Groups) {
		if g == "" {
			return invalid(errors.New("groups: empty group name"))
		}
		seen := map[string]bool{}
		for _, m := range f.Groups[g] {
			if m == "" || seen[m] {
				return invalid(fmt.Errorf("groups: %s: empty or repeated member %q", g, m))
			}
			seen[m] = true
		}
	}
	return nil
}

// diffFiles describes, one line per rule, user or group, how new differs
// from old.
func diffFiles(old, new policies.File) []string {
	var out []string
	oldRules := map[string]policies.Rule{}
	for _, r := range old.Rules {
		oldRules[r.ID] = r
	}
	newIDs := map[string]bool{}
	for _, r := range new.Rules {
		newIDs[r.ID] = true
		body, _ := marshalRule(r) // a Rule always encodes
		o, ok := oldRules[r.ID]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("added rule %s: %s", r.ID, body))
		case !reflect.DeepEqual(normRule(o), normRule(r)):
			out = append(out, fmt.Sprintf("replaced rule %s: %s", r.ID, body))
		}
	}
	for _, r := range old.Rules {
		if !newIDs[r.ID] {
			out = append(out, "removed rule "+r.ID)
		}
	}
	out = append(out, diffSets("user", old.Users, new.Users)...)
	out = append(out, diffSets("group", old.Groups, new.Groups)...)
	return out
}

// normRule makes encoding-equivalent rules compare equal.
func normRule(r policies.Rule) string {
	b, _ := marshalRule(r)
	return string(b)
}

func diffSets(what string, old, new map[string][]string) []string {
	var out []string
	for _, k := range sortedKeys(new) {
		o, ok := old[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("added %s %s: [%s]", what, k, strings.Join(new[k], ", ")))
		case strings.Join(o, "\x00") != strings.Join(new[k], "\x00"):
			out = append(out, fmt.Sprintf("set %s %s: [%s]", what, k, strings.Join(new[k], ", ")))
		}
	}
	for _, k := range sortedKeys(old) {
		if _, ok := new[k]; !ok {
			out = append(out, fmt.Sprintf("removed %s %s", what, k))
		}
	}
	return out
}
