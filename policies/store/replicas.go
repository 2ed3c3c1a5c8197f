package store

import (
	"context"
	"fmt"
	"time"
)

// Replicas. Every serve process has a random replica id and beats its
// heart in the store; a run records the replica that executes it (its
// owner). With several replicas on one database nobody may mark "every
// running run" interrupted at start-up, as one process may: the lease
// holder marks only the runs whose owner stopped beating (InterruptOrphans).
// A queued run belongs to the replica that queued it, and any replica may
// take over a queued run whose owner is gone or that waited too long
// (TakeQueued); the queued → running compare-and-set (StartRun) stays what
// keeps a run from starting twice.

// liveReplicas is the subquery of the replicas that beat since a time.
const liveReplicas = `(SELECT id FROM replicas WHERE heartbeat_at >= ?)`

// Heartbeat records that the replica is alive at at.
func (s *Store) Heartbeat(ctx context.Context, replica string, at time.Time) error {
	return s.writeRows(ctx, func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO replicas (id, started_at, heartbeat_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, replica, at.UnixNano(), at.UnixNano()); err != nil {
			return fmt.Errorf("beat heart of replica %s: %w", replica, err)
		}
		return nil
	})
}

// StartRun moves a queued run to running and records owner as the replica
// executing it. Of several callers starting the same run, across
// processes, one succeeds and the others get an errs.Conflict error.
func (s *Store) StartRun(ctx context.Context, id, owner string) error {
	return s.writeRows(ctx, func(tx *txn) error {
		return s.moveRun(ctx, tx, id, []State{Queued}, Running, "", nil, owner)
	})
}

// TakeQueued makes owner the owner of up to max queued runs, oldest first,
// whose owner is not a replica that beat its heart since staleBefore, or
// that have waited since before staleBefore, and returns their ids for
// owner's workers to start (StartRun). Replicas taking at once pass over
// each other's rows (SKIP LOCKED on Postgres).
func (s *Store) TakeQueued(ctx context.Context, owner string, max int, now, staleBefore time.Time) ([]string, error) {
	if max <= 0 {
		return nil, nil
	}
	var ids []string
	err := s.writeRows(ctx, func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `SELECT seq FROM runs WHERE state = 'queued' AND owner <> ?
			AND (updated_at < ? OR owner NOT IN `+liveReplicas+`) ORDER BY seq LIMIT ?`+s.b.SkipLocked,
			owner, staleBefore.UnixNano(), staleBefore.UnixNano(), max)
		if err != nil {
			return fmt.Errorf("read queued runs: %w", err)
		}
		var seqs []int64
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return fmt.Errorf("read queued runs: %w", err)
			}
			seqs = append(seqs, seq)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read queued runs: %w", err)
		}
		for _, seq := range seqs {
			res, err := tx.ExecContext(ctx, `UPDATE runs SET owner = ?, updated_at = ? WHERE seq = ? AND state = 'queued'`, owner, now.UnixNano(), seq)
			if err != nil {
				return fmt.Errorf("take run %s: %w", runID(seq), err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				ids = append(ids, runID(seq))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take queued runs: %w", err)
	}
	return ids, nil
}

// InterruptOrphans marks interrupted every running run whose owner has not
// beaten its heart since staleBefore (its process died mid-run: the run
// may have half-happened and is never retried) and returns them. Each run
// is returned to one caller only, so it is announced once. Replicas whose
// heart stopped long before are forgotten.
func (s *Store) InterruptOrphans(ctx context.Context, now, staleBefore time.Time) ([]Run, error) {
	rs, err := s.interrupt(ctx, now, ` WHERE state = 'running' AND owner NOT IN `+liveReplicas+` ORDER BY seq`, "running → interrupted: its replica stopped", staleBefore.UnixNano())
	if err != nil {
		return nil, err
	}
	err = s.writeRows(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM replicas WHERE heartbeat_at < ? AND id NOT IN (SELECT owner FROM runs WHERE state IN ('queued', 'running'))`,
			staleBefore.Add(-24*time.Hour).UnixNano())
		return err
	})
	if err != nil {
		return rs, fmt.Errorf("forget stopped replicas: %w", err)
	}
	return rs, nil
}

// interrupt marks the running runs that tail selects interrupted and
// returns those it changed.
func (s *Store) interrupt(ctx context.Context, now time.Time, tail, detail string, args ...any) ([]Run, error) {
	var out []Run
	err := s.writeRows(ctx, func(tx *txn) error {
		out = nil
		rs, err := s.queryRuns(ctx, tx, tail+s.b.ForUpdate, args...)
		if err != nil {
			return err
		}
		for _, r := range rs {
			const summary = "interrupted: day2bot stopped while this run was in progress"
			res, err := tx.ExecContext(ctx, `UPDATE runs SET state = 'interrupted', summary = ?, finished_at = ?, updated_at = ? WHERE seq = ? AND state = 'running'`,
				summary, now.UnixNano(), now.UnixNano(), mustSeq(r.ID))
			if err != nil {
				return fmt.Errorf("interrupt run %s: %w", r.ID, err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				continue
			}
			if err := s.audit(ctx, tx, Entry{At: now, Actor: "day2bot", Kind: KindRun, App: r.App, Task: r.Task, RunID: r.ID, Detail: detail}); err != nil {
				return err
			}
			r.State, r.Summary, r.FinishedAt, r.UpdatedAt = Interrupted, summary, now.UTC(), now.UTC()
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("interrupt running runs: %w", err)
	}
	return out, nil
}
