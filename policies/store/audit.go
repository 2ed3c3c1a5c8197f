package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Audit kinds. Every decision and every change to policy, approvals, runs
// and freezes leaves one entry.
const (
	KindDecision = "decision"
	KindPolicy   = "policy"
	KindApproval = "approval"
	KindRun      = "run"
	KindFreeze   = "freeze"
	// KindRefused is a chat request refused before the engine: from a
	// workspace, guild or DM that is not allowed.
	KindRefused = "refused"
)

// Entry is one line of the append-only audit log.
type Entry struct {
	Seq    int64 // assigned by the store, increasing
	At     time.Time
	Actor  string // principal or handle of who acted; "day2bot" for the bot itself
	Kind   string
	App    string
	Task   string
	RunID  string
	Detail string
}

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	App   string
	Kind  string
	Actor string
	RunID string
	// Since and Until bound the entries' time, [Since, Until); zero leaves
	// that side open.
	Since, Until time.Time
	Limit        int // newest Limit entries; 0 means 100
}

// Audit appends e to the audit log. A zero At is set to now.
func (s *Store) Audit(ctx context.Context, e Entry) error {
	return s.writeRows(ctx, func(tx *txn) error { return s.audit(ctx, tx, e) })
}

func (s *Store) audit(ctx context.Context, tx *txn, e Entry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	if e.Kind == "" {
		return fmt.Errorf("append audit: empty kind")
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO audit (at, actor, kind, app, task, run_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.At.UnixNano(), e.Actor, e.Kind, e.App, e.Task, e.RunID, e.Detail)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

// AuditLog returns the newest entries matching f, newest first.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]Entry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.App != "" {
		add("app = ?", f.App)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.RunID != "" {
		add("run_id = ?", f.RunID)
	}
	if !f.Since.IsZero() {
		add("at >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("at < ?", f.Until.UnixNano())
	}
	q := `SELECT seq, at, actor, kind, app, task, run_id, detail FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY seq DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Kind, &e.App, &e.Task, &e.RunID, &e.Detail); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		e.At = time.Unix(0, at).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
