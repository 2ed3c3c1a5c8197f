package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/day2bot/day2bot/policies"
)

// RecordUse counts one use of a rate-limited rule by principal at the given
// time. Uses live in the database so limits survive a restart.
func (s *Store) RecordUse(ctx context.Context, ruleID, principal string, at time.Time) error {
	return s.writeRows(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rule_uses (rule_id, principal, at) VALUES (?, ?, ?)`,
			ruleID, principal, at.UnixNano()); err != nil {
			return fmt.Errorf("record use of rule %s: %w", ruleID, err)
		}
		return nil
	})
}

// PruneUses forgets uses before the given time; call it now and then with
// the longest rate window of the rules.
func (s *Store) PruneUses(ctx context.Context, before time.Time) error {
	return s.writeRows(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rule_uses WHERE at < ?`, before.UnixNano()); err != nil {
			return fmt.Errorf("prune rule uses: %w", err)
		}
		return nil
	})
}

// RateKey is whom a rate limit counts: the person (their handle) when
// known, so "5/1h per user" holds across their Slack and Discord
// identities; else the principal. RecordUse and UsageFor take this key.
func RateKey(principal, handle string) string {
	if handle != "" {
		return "handle:" + handle
	}
	return principal
}

// UsageFor loads principal's uses since the given time into memory, for one
// policies.Evaluate: evaluation stays pure and never waits on the disk.
func (s *Store) UsageFor(ctx context.Context, principal string, since time.Time) (policies.Usage, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT rule_id, at FROM rule_uses WHERE principal = ? AND at >= ?`,
		principal, since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("read uses of %s: %w", principal, err)
	}
	defer rows.Close()
	u := usage{principal: principal, uses: map[string][]int64{}}
	for rows.Next() {
		var rule string
		var at int64
		if err := rows.Scan(&rule, &at); err != nil {
			return nil, fmt.Errorf("read uses of %s: %w", principal, err)
		}
		u.uses[rule] = append(u.uses[rule], at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read uses of %s: %w", principal, err)
	}
	for _, ts := range u.uses {
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	}
	return u, nil
}

// usage is a snapshot of one principal's rule uses.
type usage struct {
	principal string
	uses      map[string][]int64 // rule id -> sorted unix nanos
}

var _ policies.Usage = usage{}

// Used counts uses of ruleID at or after since. Other principals' uses are
// not in the snapshot and count 0.
func (u usage) Used(ruleID, principal string, since time.Time) int {
	if principal != u.principal {
		return 0
	}
	ts := u.uses[ruleID]
	t := since.UnixNano()
	i := sort.Search(len(ts), func(i int) bool { return ts[i] >= t })
	return len(ts) - i
}
