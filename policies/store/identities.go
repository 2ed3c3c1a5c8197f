package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies"
)

// SetUser sets the chat identities (principals such as "slack:U123") of the
// person with the given handle, replacing earlier ones. No principals
// removes the user. A principal that belongs to someone else is an
// errs.Conflict error.
func (s *Store) SetUser(ctx context.Context, actor, handle string, principals []string) error {
	if handle == "" {
		return errs.E("set user", errs.Invalid, "empty user handle")
	}
	if err := validateFile(policies.File{Users: map[string][]string{handle: principals}}); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		for _, p := range principals {
			var owner string
			err := tx.QueryRowContext(ctx, `SELECT handle FROM user_principals WHERE principal = ?`, p).Scan(&owner)
			if err == nil && owner != handle {
				return errs.E("set user", errs.Conflict, "%s already belongs to %s", p, owner)
			}
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("set user %s: %w", handle, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE handle = ?`, handle); err != nil {
			return fmt.Errorf("set user %s: %w", handle, err)
		}
		detail := "removed user " + handle
		if len(principals) > 0 {
			if err := insertUser(ctx, tx, handle, principals); err != nil {
				return err
			}
			detail = fmt.Sprintf("set user %s: [%s]", handle, strings.Join(principals, ", "))
		}
		if err := bumpPolicyVersion(ctx, tx); err != nil {
			return err
		}
		return s.audit(ctx, tx, Entry{Actor: actor, Kind: KindPolicy, Detail: detail})
	})
}

// Handle returns the handle of the person a principal belongs to, or "" if
// the principal is not known (not an error: most chat users have no handle).
func (s *Store) Handle(ctx context.Context, principal string) (string, error) {
	var h string
	err := s.rdb.QueryRowContext(ctx, `SELECT handle FROM user_principals WHERE principal = ?`, principal).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up handle of %s: %w", principal, err)
	}
	return h, nil
}

// Identify resolves a user given as a principal ("slack:U123") or as a
// handle ("carol") to the principal, handle and groups a request is
// evaluated with, so that chat and the CLI answer "what may carol do" alike.
// A handle stands for its first principal, or for "handle:carol" when it
// has none; a principal nobody claimed has no handle. A user that is
// neither is an errs.Invalid error.
func (s *Store) Identify(ctx context.Context, user string) (principal, handle string, groups []string, err error) {
	if strings.Contains(user, ":") {
		principal = user
		if handle, err = s.Handle(ctx, user); err != nil {
			return "", "", nil, err
		}
	} else {
		if !policies.ValidHandle(user) {
			return "", "", nil, errs.E("identify user", errs.Invalid, "user %q is neither a principal such as slack:U123 nor a handle such as carol", user)
		}
		handle = user
		err := s.rdb.QueryRowContext(ctx, `SELECT principal FROM user_principals WHERE handle = ? ORDER BY position LIMIT 1`, user).Scan(&principal)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			principal = "handle:" + user
		case err != nil:
			return "", "", nil, fmt.Errorf("look up principal of %s: %w", user, err)
		}
	}
	if groups, err = s.GroupsOf(ctx, principal, handle); err != nil {
		return "", "", nil, err
	}
	return principal, handle, groups, nil
}

// Users returns every handle with its principals.
func (s *Store) Users(ctx context.Context) (map[string][]string, error) {
	m, err := readSets(ctx, s.rdb, `SELECT u.handle, p.principal FROM users u
		LEFT JOIN user_principals p ON p.handle = u.handle ORDER BY u.handle, p.position`)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	return m, nil
}

// AddMember adds member (a handle or a principal) to group, creating the
// group if needed.
func (s *Store) AddMember(ctx context.Context, actor, group, member string) error {
	if err := validateFile(policies.File{Groups: map[string][]string{group: {member}}}); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO groups (name) VALUES (?) ON CONFLICT DO NOTHING`, group); err != nil {
			return fmt.Errorf("add group %s: %w", group, err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO group_members (grp, member, position)
			VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM group_members WHERE grp = ?))
			ON CONFLICT DO NOTHING`, group, member, group)
		if err != nil {
			return fmt.Errorf("add %s to group %s: %w", member, group, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E("add group member", errs.Conflict, "%s is already in group %s", member, group)
		}
		if err := bumpPolicyVersion(ctx, tx); err != nil {
			return err
		}
		return s.audit(ctx, tx, Entry{Actor: actor, Kind: KindPolicy, Detail: fmt.Sprintf("added %s to group %s", member, group)})
	})
}

// RemoveMember removes member from group. The group stays, possibly empty,
// because rules may still name it; RemoveGroup deletes it.
func (s *Store) RemoveMember(ctx context.Context, actor, group, member string) error {
	return s.write(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE grp = ? AND member = ?`, group, member)
		if err != nil {
			return fmt.Errorf("remove %s from group %s: %w", member, group, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E("remove group member", errs.NotFound, "%s is not in group %s", member, group)
		}
		if err := bumpPolicyVersion(ctx, tx); err != nil {
			return err
		}
		return s.audit(ctx, tx, Entry{Actor: actor, Kind: KindPolicy, Detail: fmt.Sprintf("removed %s from group %s", member, group)})
	})
}

// RemoveGroup deletes a group and its memberships.
func (s *Store) RemoveGroup(ctx context.Context, actor, group string) error {
	return s.write(ctx, func(tx *txn) error {
		rules, err := readRules(ctx, tx)
		if err != nil {
			return fmt.Errorf("remove group %s: %w", group, err)
		}
		for _, r := range rules {
			if slices.Contains(r.Subjects, "group:"+group) || slices.Contains(r.Approvers, "group:"+group) {
				return errs.E("remove group", errs.Invalid, "rule %s still names group %s", r.ID, group)
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM groups WHERE name = ?`, group)
		if err != nil {
			return fmt.Errorf("remove group %s: %w", group, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("remove group", "group", group)
		}
		if err := bumpPolicyVersion(ctx, tx); err != nil {
			return err
		}
		return s.audit(ctx, tx, Entry{Actor: actor, Kind: KindPolicy, Detail: "removed group " + group})
	})
}

// Groups returns every group with its members in the order they were added.
func (s *Store) Groups(ctx context.Context) (map[string][]string, error) {
	m, err := readSets(ctx, s.rdb, `SELECT g.name, m.member FROM groups g
		LEFT JOIN group_members m ON m.grp = g.name ORDER BY g.name, m.position`)
	if err != nil {
		return nil, fmt.Errorf("read groups: %w", err)
	}
	return m, nil
}

// GroupsOf returns, sorted, the groups that list the principal or the
// handle (if not empty) as a member.
func (s *Store) GroupsOf(ctx context.Context, principal, handle string) ([]string, error) {
	if handle == "" {
		handle = principal // matches the same rows; keeps one query
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT DISTINCT grp FROM group_members WHERE member IN (?, ?)`, principal, handle)
	if err != nil {
		return nil, fmt.Errorf("read groups of %s: %w", principal, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("read groups of %s: %w", principal, err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read groups of %s: %w", principal, err)
	}
	sort.Strings(out)
	return out, nil
}

func insertUser(ctx context.Context, tx *txn, handle string, principals []string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO users (handle) VALUES (?)`, handle); err != nil {
		return fmt.Errorf("store user %s: %w", handle, err)
	}
	for i, p := range principals {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_principals (principal, handle, position) VALUES (?, ?, ?)`, p, handle, i+1); err != nil {
			return fmt.Errorf("store user %s principal %s: %w", handle, p, err)
		}
	}
	return nil
}

func insertGroup(ctx context.Context, tx *txn, group string, members []string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO groups (name) VALUES (?)`, group); err != nil {
		return fmt.Errorf("store group %s: %w", group, err)
	}
	for i, m := range members {
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_members (grp, member, position) VALUES (?, ?, ?)`, group, m, i+1); err != nil {
			return fmt.Errorf("store group %s member %s: %w", group, m, err)
		}
	}
	return nil
}
