package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies"
)

// Freeze stops mutating tasks of app until the given time (zero: until
// Unfreeze). A new freeze replaces an existing one.
func (s *Store) Freeze(ctx context.Context, app, by, reason string, until time.Time) error {
	if app == "" {
		return errs.E("freeze app", errs.Invalid, "freeze: empty app")
	}
	return s.write(ctx, func(tx *txn) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO freezes (app, frozen_by, reason, until, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (app) DO UPDATE SET frozen_by = excluded.frozen_by, reason = excluded.reason,
			until = excluded.until, created_at = excluded.created_at`, app, by, reason, nanos(until), now.UnixNano()); err != nil {
			return fmt.Errorf("freeze %s: %w", app, err)
		}
		detail := "froze " + app
		if !until.IsZero() {
			detail += " until " + until.UTC().Format(time.RFC3339)
		}
		if reason != "" {
			detail += ": " + reason
		}
		return s.audit(ctx, tx, Entry{Actor: by, Kind: KindFreeze, App: app, Detail: detail})
	})
}

// Unfreeze lifts app's freeze. An app that is not frozen (or whose freeze
// has expired) is an errs.NotFound error.
func (s *Store) Unfreeze(ctx context.Context, app, by string) error {
	return s.write(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM freezes WHERE app = ? AND (until IS NULL OR until > ?)`, app, s.now().UnixNano())
		if err != nil {
			return fmt.Errorf("unfreeze %s: %w", app, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E("unfreeze app", errs.NotFound, "%s is not frozen", app)
		}
		return s.audit(ctx, tx, Entry{Actor: by, Kind: KindFreeze, App: app, Detail: "unfroze " + app})
	})
}

// FreezeOf returns app's freeze, or nil if it is not frozen. A freeze whose
// Until has passed is ignored.
func (s *Store) FreezeOf(ctx context.Context, app string) (*policies.Freeze, error) {
	var f policies.Freeze
	var until sql.NullInt64
	err := s.rdb.QueryRowContext(ctx, `SELECT frozen_by, reason, until FROM freezes WHERE app = ?`, app).Scan(&f.By, &f.Reason, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read freeze of %s: %w", app, err)
	}
	f.Until = fromNanos(until)
	if !f.Until.IsZero() && !s.now().Before(f.Until) {
		return nil, nil
	}
	return &f, nil
}
