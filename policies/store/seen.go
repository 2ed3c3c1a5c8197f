package store

import (
	"context"
	"fmt"
	"time"
)

// SeenOnce records key as seen until the given time and reports whether it
// was new: false means a request with this key was already served and has
// not expired, so the caller refuses it as a replay. The chat adapters call
// it with the digest of a verified Slack request or a Discord interaction
// id, and until the end of its freshness window. Expired keys are pruned on
// the way, so the table holds about one window's worth of requests.
func (s *Store) SeenOnce(ctx context.Context, key string, until time.Time) (first bool, err error) {
	if key == "" {
		return false, fmt.Errorf("remember request: empty key")
	}
	err = s.writeRows(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM seen_requests WHERE until < ?`, s.now().UnixNano()); err != nil {
			return fmt.Errorf("prune seen requests: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO seen_requests (key, until) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
			key, until.UnixNano())
		if err != nil {
			return fmt.Errorf("remember request: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("remember request: %w", err)
		}
		first = n == 1
		return nil
	})
	return first, err
}
