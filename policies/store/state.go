package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/day2bot/day2bot/internal/errs"
)

// ScheduleLastRun returns when the schedule with the given key last ran, or
// the zero time if never.
func (s *Store) ScheduleLastRun(ctx context.Context, key string) (time.Time, error) {
	var n int64
	err := s.rdb.QueryRowContext(ctx, `SELECT last_run FROM schedule_state WHERE key = ?`, key).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read schedule %s: %w", key, err)
	}
	return time.Unix(0, n).UTC(), nil
}

// SetScheduleLastRun records that the schedule ran at the given time.
func (s *Store) SetScheduleLastRun(ctx context.Context, key string, at time.Time) error {
	return s.writeRows(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO schedule_state (key, last_run) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET last_run = excluded.last_run`, key, at.UnixNano()); err != nil {
			return fmt.Errorf("set schedule %s: %w", key, err)
		}
		return nil
	})
}

// ClaimScheduleRun records at as the schedule's last run if the recorded
// one is older, and reports whether it did: of several replicas firing the
// same schedule for the same time, one gets true.
func (s *Store) ClaimScheduleRun(ctx context.Context, key string, at time.Time) (bool, error) {
	var ok bool
	err := s.writeRows(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO schedule_state (key, last_run) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET last_run = excluded.last_run WHERE schedule_state.last_run < excluded.last_run`, key, at.UnixNano())
		if err != nil {
			return fmt.Errorf("claim schedule %s: %w", key, err)
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}

// AlarmState returns the last known state of an alarm and the reference of
// the message posted about it; both empty if unknown.
func (s *Store) AlarmState(ctx context.Context, alarm string) (state, msgRef string, err error) {
	err = s.rdb.QueryRowContext(ctx, `SELECT state, message_ref FROM alarm_state WHERE alarm = ?`, alarm).Scan(&state, &msgRef)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read alarm %s: %w", alarm, err)
	}
	return state, msgRef, nil
}

// SetAlarmState records an alarm's state and its message reference.
func (s *Store) SetAlarmState(ctx context.Context, alarm, state, msgRef string) error {
	return s.writeRows(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alarm_state (alarm, state, message_ref, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (alarm) DO UPDATE SET state = excluded.state, message_ref = excluded.message_ref,
			updated_at = excluded.updated_at`, alarm, state, msgRef, s.now().UnixNano()); err != nil {
			return fmt.Errorf("set alarm %s: %w", alarm, err)
		}
		return nil
	})
}

// FollowUp is deferred work that must survive a restart, such as undoing a
// temporary scale-up after its duration.
type FollowUp struct {
	ID        int64 // assigned by AddFollowUp
	App       string
	Action    string
	Values    json.RawMessage
	Reason    string
	DueAt     time.Time
	RunID     string // the run that asked for it
	CreatedAt time.Time
}

// AddFollowUp stores a follow-up and returns its ID.
func (s *Store) AddFollowUp(ctx context.Context, f FollowUp) (int64, error) {
	vals := string(f.Values)
	if vals == "" {
		vals = "null"
	}
	if !json.Valid([]byte(vals)) {
		return 0, errs.E("add follow-up", errs.Invalid, "follow-up values are not JSON")
	}
	var id int64
	err := s.writeRows(ctx, func(tx *txn) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO follow_ups (app, action, vals, reason, due_at, run_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, f.App, f.Action, vals, f.Reason, f.DueAt.UnixNano(), f.RunID, s.now().UnixNano()).Scan(&id)
		if err != nil {
			return fmt.Errorf("add follow-up: %w", err)
		}
		return nil
	})
	return id, err
}

// DueFollowUps returns unclaimed follow-ups due at or before now, earliest
// first.
func (s *Store) DueFollowUps(ctx context.Context, now time.Time) ([]FollowUp, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, app, action, vals, reason, due_at, run_id, created_at
		FROM follow_ups WHERE claimed_at IS NULL AND due_at <= ? ORDER BY due_at, id`, now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("read follow-ups: %w", err)
	}
	defer rows.Close()
	var out []FollowUp
	for rows.Next() {
		var f FollowUp
		var vals string
		var due, created int64
		if err := rows.Scan(&f.ID, &f.App, &f.Action, &vals, &f.Reason, &due, &f.RunID, &created); err != nil {
			return nil, fmt.Errorf("read follow-ups: %w", err)
		}
		f.Values = json.RawMessage(vals)
		f.DueAt, f.CreatedAt = time.Unix(0, due).UTC(), time.Unix(0, created).UTC()
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read follow-ups: %w", err)
	}
	return out, nil
}

// ClaimFollowUp marks a follow-up as taken; it returns true for exactly one
// caller, across processes.
func (s *Store) ClaimFollowUp(ctx context.Context, id int64) (bool, error) {
	var ok bool
	err := s.writeRows(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE follow_ups SET claimed_at = ? WHERE id = ? AND claimed_at IS NULL`, s.now().UnixNano(), id)
		if err != nil {
			return fmt.Errorf("claim follow-up %d: %w", id, err)
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}
