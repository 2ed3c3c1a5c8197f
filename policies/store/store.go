// Package store keeps day2bot's state: policy rules, identities and groups,
// freezes, approvals and their votes, the run journal, the append-only audit
// log, rate-limit uses, and scheduler/alarm state.
//
// This package holds the records, the contract and the one implementation
// of it, in portable SQL over database/sql; it links no database driver (no
// cgo), so the engine and the adapters that import it do not either. A
// backend package opens the database and hands over a Backend:
// policies/store/sqlite (one file, one host, the default) or
// policies/store/postgres (several replicas). policies/store/storetest is
// the contract suite every backend passes.
//
// Writes run in transactions. A check-then-write (a vote that reaches
// quorum, a run that moves from queued to running) cannot interleave with
// another writer: on SQLite every write is an immediate transaction on one
// connection; on Postgres the hot paths lock the rows they check (SELECT …
// FOR UPDATE) and the rare administrative writes also take a
// transaction-scoped advisory lock, which serializes them the way SQLite does.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/day2bot/day2bot/policies"
)

// Backend is an open database as a backend package hands it to New.
type Backend struct {
	// Name names the kind of database in logs and errors: "sqlite",
	// "postgres".
	Name string
	// Write runs the write transactions, Read the reads outside them. They
	// may be the same pool.
	Write, Read *sql.DB
	// Numbered is true when the driver wants $1, $2, … where the store's
	// queries say ?.
	Numbered bool
	// SerialLock, if set, is run first in every write that is not written
	// for row locks (policy, identities, freezes, expiry): it makes those
	// writers take turns, as BEGIN IMMEDIATE does on SQLite.
	SerialLock string
	// ForUpdate is appended to a SELECT whose rows the transaction then
	// changes (" FOR UPDATE"), so a concurrent writer of the same rows waits
	// and then sees the new values. SQLite needs none: its writers already
	// take turns.
	ForUpdate string
	// SkipLocked is appended to a SELECT of queue rows a transaction takes
	// for itself (" FOR UPDATE SKIP LOCKED"), so replicas taking work at
	// once pass over each other's rows instead of waiting for them.
	SkipLocked string
	// Migrate brings the schema up to date; New calls it.
	Migrate func(ctx context.Context, log *slog.Logger) error
	// SchemaVersion reports the schema version migrations reached.
	SchemaVersion func(ctx context.Context) (int, error)
	// Close releases what the backend holds beyond the two pools.
	Close func() error
}

// Store is an open database. It is safe for concurrent use.
type Store struct {
	b   Backend
	wdb *db
	rdb *db

	now func() time.Time
	log *slog.Logger

	mu      sync.Mutex // guards the compiled rule-set cache
	version int64      // policy_version the cache was built from; -1: none
	ruleSet *policies.RuleSet
}

// Option configures New.
type Option func(*options)

type options struct {
	now func() time.Time
	log *slog.Logger
}

// WithClock sets the clock used for timestamps the store sets itself
// (updated_at, created_at, audit times). Default time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets the logger. Default discards.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// LoggerOf is the logger opts set (WithLogger), or one that discards: for
// a backend that logs before New.
func LoggerOf(opts ...Option) *slog.Logger {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	return o.log
}

// New migrates the backend's database to the current schema and returns
// the store on it. On error the backend is closed.
func New(ctx context.Context, b Backend, opts ...Option) (*Store, error) {
	o := options{now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	rebind := func(q string) string { return q }
	if b.Numbered {
		rebind = numbered
	}
	s := &Store{b: b, wdb: &db{b.Write, rebind}, rdb: &db{b.Read, rebind}, now: o.now, log: o.log, version: -1}
	if b.Migrate != nil {
		if err := b.Migrate(ctx, o.log); err != nil {
			s.Close()
			return nil, fmt.Errorf("migrate %s database: %w", b.Name, err)
		}
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	errs := []error{s.b.Write.Close()}
	if s.b.Read != s.b.Write {
		errs = append(errs, s.b.Read.Close())
	}
	if s.b.Close != nil {
		errs = append(errs, s.b.Close())
	}
	return errors.Join(errs...)
}

// Backend names the kind of database: "sqlite" or "postgres".
func (s *Store) Backend() string { return s.b.Name }

// SchemaVersion reports the version the schema was migrated to.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	if s.b.SchemaVersion == nil {
		return 0, errors.New("read schema version: not supported")
	}
	return s.b.SchemaVersion(ctx)
}

// write runs fn in one transaction that takes turns with every other
// write (SQLite: BEGIN IMMEDIATE; Postgres: Backend.SerialLock) and
// commits if fn returns nil.
func (s *Store) write(ctx context.Context, fn func(tx *txn) error) error {
	return s.inTx(ctx, s.b.SerialLock, fn)
}

// writeRows runs fn in one transaction that does not take turns with other
// writers on Postgres: fn must lock the rows it checks before it changes
// them (s.b.ForUpdate) or change them with a conditional UPDATE. The hot
// paths (votes, run transitions, the journal) use it, so replicas working
// on different runs and approvals do not wait for each other.
func (s *Store) writeRows(ctx context.Context, fn func(tx *txn) error) error {
	return s.inTx(ctx, "", fn)
}

func (s *Store) inTx(ctx context.Context, lock string, fn func(tx *txn) error) error {
	t, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &txn{t, s.wdb.rebind}
	if lock != "" {
		if _, err := tx.ExecContext(ctx, lock); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("take write lock: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// db and txn pass the store's queries to database/sql with the
// placeholders the driver wants.
type db struct {
	*sql.DB
	rebind func(string) string
}

func (d *db) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.DB.ExecContext(ctx, d.rebind(q), args...)
}

func (d *db) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.DB.QueryContext(ctx, d.rebind(q), args...)
}

func (d *db) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return d.DB.QueryRowContext(ctx, d.rebind(q), args...)
}

type txn struct {
	*sql.Tx
	rebind func(string) string
}

func (t *txn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.rebind(q), args...)
}

func (t *txn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.rebind(q), args...)
}

func (t *txn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.rebind(q), args...)
}

// numbered rewrites the ? placeholders of q to $1, $2, …; a ? inside a
// quoted string literal or identifier is left alone.
func numbered(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote rune
	for _, r := range q {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Times are stored as unix nanoseconds; the zero time is NULL.

func nanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
