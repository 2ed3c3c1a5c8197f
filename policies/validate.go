package policies

import (
	"errors"
	"maps"
	"slices"
)

// ValidateFile checks a whole policy file: users, groups and every rule (as
// Compile does). When the file defines groups, every group a rule names as
// subject or approver must be among them — a misspelt approver group would
// otherwise leave approvals that nobody can give.
func ValidateFile(f File) error {
	var ps problems
	owner := map[string]string{} // identity -> handle, to catch one identity claimed twice
	for _, handle := range slices.Sorted(maps.Keys(f.Users)) {
		field := "users." + handle
		if !ValidHandle(handle) {
			ps.add("", field, "bad handle %q: lowercase letters, digits and '-' (a DNS label)", handle)
		}
		for _, id := range f.Users[handle] {
			if err := checkIdentity(id); err != nil || ValidHandle(id) {
				ps.add("", field, "bad identity %q: want PLATFORM:ID such as slack:U123", id)
				continue
			}
			if prev, ok := owner[id]; ok && prev != handle {
				ps.add("", field, "identity %s already belongs to %s", id, prev)
			}
			owner[id] = handle
		}
	}
	for _, g := range slices.Sorted(maps.Keys(f.Groups)) {
		field := "groups." + g
		if !validName(g) {
			ps.add("", field, "bad group name %q (lowercase letters, digits, '-', '_', '.')", g)
		}
		for _, m := range f.Groups[g] {
			if err := checkIdentity(m); err != nil {
				ps.add("", field, "bad member %q: %v", m, err)
			}
		}
	}
	if _, err := Compile(f.Rules); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			ps.list = append(ps.list, ve.Problems...)
		}
	}
	if len(f.Groups) > 0 {
		for _, r := range f.Rules {
			check := func(field string, list []string) {
				for _, s := range list {
					sub, err := parseSubject(s)
					if err == nil && sub.kind == subjectGroup {
						if _, ok := f.Groups[sub.name]; !ok {
							ps.add(r.ID, field, "group %q is not defined in groups", sub.name)
						}
					}
				}
			}
			check("subjects", r.Subjects)
			check("approvers", r.Approvers)
		}
	}
	return ps.err()
}
