package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies"
)

// Rules returns the policy rules in evaluation order.
func (s *Store) Rules(ctx context.Context) ([]policies.Rule, error) {
	return readRules(ctx, s.rdb)
}

// RuleSet returns the compiled rules. The compiled set is cached and rebuilt
// only when policy_version changed, which every rule, user and group change
// bumps — in this process or any other sharing the file — so the check costs
// one indexed read.
func (s *Store) RuleSet(ctx context.Context) (*policies.RuleSet, error) {
	// Fast path: one statement, no transaction.
	v, err := policyVersion(ctx, s.rdb)
	if err != nil {
		return nil, fmt.Errorf("load rule set: %w", err)
	}
	s.mu.Lock()
	if s.version == v && s.ruleSet != nil {
		rs := s.ruleSet
		s.mu.Unlock()
		return rs, nil
	}
	s.mu.Unlock()
	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("load rule set: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	// Version and rules from one snapshot: the rules belong to version v.
	if v, err = policyVersion(ctx, tx); err != nil {
		return nil, fmt.Errorf("load rule set: %w", err)
	}
	rules, err := readRules(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("load rule set: %w", err)
	}
	rs, err := policies.Compile(rules)
	if err != nil {
		return nil, fmt.Errorf("compile stored rules: %w", err)
	}
	s.mu.Lock()
	if v >= s.version {
		s.version, s.ruleSet = v, rs
	}
	s.mu.Unlock()
	return rs, nil
}

// PolicyVersion is a counter bumped by every change to rules, users or
// groups; callers caching anything derived from policy compare it.
func (s *Store) PolicyVersion(ctx context.Context) (int64, error) {
	v, err := policyVersion(ctx, s.rdb)
	if err != nil {
		return 0, fmt.Errorf("read policy version: %w", err)
	}
	return v, nil
}

// AddRule appends r to the rules. A rule with the same id is an
// errs.Conflict error; use PutRule to replace.
func (s *Store) AddRule(ctx context.Context, actor string, r policies.Rule) error {
	return s.putRule(ctx, actor, r, false)
}

// PutRule replaces the rule with r's id in place, or appends r if there is
// none.
func (s *Store) PutRule(ctx context.Context, actor string, r policies.Rule) error {
	return s.putRule(ctx, actor, r, true)
}

func (s *Store) putRule(ctx context.Context, actor string, r policies.Rule, replace bool) error {
	return s.write(ctx, func(tx *txn) error {
		f, err := readFile(ctx, tx)
		if err != nil {
			return fmt.Errorf("add rule: %w", err)
		}
		i := ruleIndex(f.Rules, r.ID)
		verb := "added"
		switch {
		case i >= 0 && !replace:
			return errs.E("add rule", errs.Conflict, "rule %q already exists (remove it first, or replace it)", r.ID)
		case i >= 0:
			f.Rules[i] = r
			verb = "replaced"
		default:
			f.Rules = append(f.Rules, r)
		}
		if err := validateFile(f); err != nil {
			return err
		}
		body, err := marshalRule(r)
		if err != nil {
			return fmt.Errorf("encode rule %s: %w", r.ID, err)
		}
		now := s.now().UnixNano()
		if i >= 0 {
			_, err = tx.ExecContext(ctx, `UPDATE rules SET body = ?, created_by = ?, updated_at = ? WHERE id = ?`, string(body), actor, now, r.ID)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO rules (id, position, body, created_by, updated_at)
				VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM rules), ?, ?, ?)`, r.ID, string(body), actor, now)
		}
		if err != nil {
			return fmt.Errorf("store rule %s: %w", r.ID, err)
		}
		if err := bumpPolicyVersion(ctx, tx); err != nil {
			return err
		}
		return s.audit(ctx, tx, Entry{Actor: actor, Kind: KindPolicy, Detail: fmt.Sprintf("%s rule %s: %s", verb, r.ID, body)})
	})
}

// RemoveRule deletes the rule with the given id.
func (s *Store) RemoveRule(ctx context.Context, actor, id string) error {
	return s.write(ctx, func(tx *txn) error {
		var body string
		err := tx.QueryRowContext(ctx, `SELECT body FROM rules WHERE id = ?`, id).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("remove rule", "rule", id)
		}
		if err != nil {
			return fmt.Errorf("remove rule %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM rules WHERE id = ?`, id); err != nil {
			return fmt.Errorf("remove rule %s: %w", id, err)
		}
		if err := bumpPolicyVersion(ctx, tx); err != nil {
			return err
		}
		return s.audit(ctx, tx, Entry{Actor: actor, Kind: KindPolicy, Detail: fmt.Sprintf("removed rule %s: %s", id, body)})
	})
}

// ImportFile replaces all rules, users and groups with f's. The whole file is
// validated first; an invalid file changes nothing. Every rule, user and
// group that differs is audited.
func (s *Store) ImportFile(ctx context.Context, actor string, f policies.File) error {
	if err := validateFile(f); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error {
		old, err := readFile(ctx, tx)
		if err != nil {
			return fmt.Errorf("import policy: %w", err)
		}
		for _, q := range []string{`DELETE FROM rules`, `DELETE FROM users`, `DELETE FROM groups`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("import policy: %w", err)
			}
		}
		now := s.now().UnixNano()
		for i, r := range f.Rules {
			body, err := marshalRule(r)
			if err != nil {
				return fmt.Errorf("encode rule %s: %w", r.ID, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO rules (id, position, body, created_by, updated_at) VALUES (?, ?, ?, ?, ?)`,
				r.ID, i+1, string(body), actor, now); err != nil {
				return fmt.Errorf("import rule %s: %w", r.ID, err)
			}
		}
		for handle, ps := range f.Users {
			if err := insertUser(ctx, tx, handle, ps); err != nil {
				return err
			}
		}
		for g, ms := range f.Groups {
			if err := insertGroup(ctx, tx, g, ms); err != nil {
				return err
			}
		}
		if err := bumpPolicyVersion(ctx, tx); err != nil {
			return err
		}
		changes := diffFiles(old, f)
		for _, c := range changes {
			if err := s.audit(ctx, tx, Entry{Actor: actor, Kind: KindPolicy, Detail: c}); err != nil {
				return err
			}
		}
		s.log.Info("imported policy", "actor", actor, "rules", len(f.Rules), "changes", len(changes))
		return nil
	})
}

// ExportFile returns the rules, users and groups as a policy file, in a form
// that ImportFile accepts and that exports identically again.
func (s *Store) ExportFile(ctx context.Context) (policies.File, error) {
	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return policies.File{}, fmt.Errorf("export policy: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	f, err := readFile(ctx, tx)
	if err != nil {
		return policies.File{}, fmt.Errorf("export policy: %w", err)
	}
	return f, nil
}

func ruleIndex(rules []policies.Rule, id string) int {
	for i, r := range rules {
		if r.ID == id {
			return i
		}
	}
	return -1
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// querier is what reads need from *sql.DB and *txn.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func readRules(ctx context.Context, q querier) ([]policies.Rule, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, body FROM rules ORDER BY position`)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	defer rows.Close()
	var out []policies.Rule
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, fmt.Errorf("read rules: %w", err)
		}
		var r policies.Rule
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return nil, fmt.Errorf("decode rule %s: %w", id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	return out, nil
}

// readFile reads rules, users and groups; inside one transaction they are a
// consistent snapshot.
func readFile(ctx context.Context, q querier) (policies.File, error) {
	var f policies.File
	var err error
	if f.Rules, err = readRules(ctx, q); err != nil {
		return f, err
	}
	if f.Users, err = readSets(ctx, q, `SELECT u.handle, p.principal FROM users u
		LEFT JOIN user_principals p ON p.handle = u.handle ORDER BY u.handle, p.position`); err != nil {
		return f, fmt.Errorf("read users: %w", err)
	}
	if f.Groups, err = readSets(ctx, q, `SELECT g.name, m.member FROM groups g
		LEFT JOIN group_members m ON m.grp = g.name ORDER BY g.name, m.position`); err != nil {
		return f, fmt.Errorf("read groups: %w", err)
	}
	return f, nil
}

// readSets reads (key, value) rows, where value is NULL for a key with no
// values, into a map of ordered lists; it returns nil for no keys so that an
// empty section is omitted from an exported file.
func readSets(ctx context.Context, q querier, query string, args ...any) (map[string][]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out map[string][]string
	for rows.Next() {
		var k string
		var v sql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		if out == nil {
			out = map[string][]string{}
		}
		if _, ok := out[k]; !ok {
			out[k] = []string{}
		}
		if v.Valid {
			out[k] = append(out[k], v.String)
		}
	}
	return out, rows.Err()
}

func policyVersion(ctx context.Context, q querier) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'policy_version'`).Scan(&v)
	return v, err
}

func bumpPolicyVersion(ctx context.Context, tx *txn) error {
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'policy_version'`); err != nil {
		return fmt.Errorf("bump policy version: %w", err)
	}
	return nil
}

// marshalRule encodes a rule for its row and the audit trail without
// HTML escaping: people read these, and "batch <= 2" must not show as
// "batch \u003c= 2".
func marshalRule(r policies.Rule) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
