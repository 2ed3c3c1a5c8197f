// Package store keeps day2bot's state in one SQLite file: policy rules,
// identities and groups, freezes, approvals and their votes, the run journal,
// the append-only audit log, rate-limit uses, and scheduler/alarm state.
//
// It is the only package that imports database/sql. The schema is embedded
// and migrated by PRAGMA user_version. The file is opened in WAL mode with a
// busy timeout, and every write is an immediate transaction, so several
// processes may share one file on one host: a check-then-write (a vote that
// reaches quorum, a run that moves from queued to running) cannot interleave
// with another writer. SQLite WAL needs a local disk, not NFS/EFS.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver, registered as "sqlite3"

	"github.com/day2bot/day2bot/policies"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Store is an open database. It is safe for concurrent use.
type Store struct {
	// wdb runs every write on a single connection: writers in this process
	// queue in database/sql instead of spinning in SQLite's busy handler;
	// writers in other processes are held off by BEGIN IMMEDIATE and the
	// busy timeout.
	wdb *sql.DB
	// rdb serves reads on as many connections as needed; WAL lets them run
	// beside the writer.
	rdb *sql.DB

	now func() time.Time
	log *slog.Logger

	mu      sync.Mutex // guards the compiled rule-set cache
	version int64      // policy_version the cache was built from; -1: none
	ruleSet *policies.RuleSet
}

// Option configures Open.
type Option func(*options)

type options struct {
	now           func() time.Time
	log           *slog.Logger
	maxMigrations int // tests stop migrating early to test upgrades
}

// WithClock sets the clock used for timestamps the store sets itself
// (updated_at, created_at, audit times). Default time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets the logger. Default discards.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// withMaxMigrations stops migrating after n migrations; tests use it to
// build files of an older schema version.
func withMaxMigrations(n int) Option { return func(o *options) { o.maxMigrations = n } }

// Open opens (creating if needed) the database at path and migrates it to the
// current schema.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, &UserError{Kind: ErrInvalid, Msg: "database path is empty"}
	}
	if err := createPrivate(path, o.log); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	wdb, err := sql.Open("sqlite3", dsn(path, "immediate"))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetConnMaxIdleTime(0)
	rdb, err := sql.Open("sqlite3", dsn(path, "deferred"))
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{wdb: wdb, rdb: rdb, now: o.now, log: o.log, version: -1}
	if err := s.migrate(ctx, o.maxMigrations); err != nil {
		s.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return s, nil
}

// createPrivate creates the database file readable by its owner only, or
// narrows an existing file to that. The file holds policies, approvals and
// who ran what; SQLite creates the -wal and -shm files with the mode of the
// database file, so they follow.
func createPrivate(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat file: %w", err)
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		if err := f.Chmod(mode &^ 0o077); err != nil {
			return fmt.Errorf("make file private: %w", err)
		}
		log.Info("database file made private", "path", path, "was", mode.String())
	}
	for _, side := range []string{"-wal", "-shm"} {
		// Left over from an older version: narrow them too.
		if err := os.Chmod(path+side, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("make %s file private: %w", side, err)
		}
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.wdb.Close(), s.rdb.Close())
}

var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

func dsn(path, txlock string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "5000")
	q.Set("_foreign_keys", "on")
	q.Set("_txlock", txlock)
	q.Set("_synchronous", "NORMAL")
	// The DSN is a SQLite URI: the characters that end or escape a URI
	// path are percent-encoded so any file name works.
	return "file:" + uriPath.Replace(path) + "?" + q.Encode()
}

// migrations lists the embedded schema files in order; migration i (1-based)
// brings user_version from i-1 to i.
func migrations() ([]string, error) {
	names, err := fs.Glob(schemaFS, "schema/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		b, err := schemaFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", n, err)
		}
		out = append(out, string(b))
	}
	return out, nil
}

// migrate applies the migrations the file has not seen yet. Each runs in its
// own immediate transaction together with the user_version bump, so a crash
// leaves the file at a whole version, and two processes opening a fresh file
// at once do not both apply a migration.
func (s *Store) migrate(ctx context.Context, limit int) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if limit > 0 && limit < len(ms) {
		ms = ms[:limit]
	}
	for {
		done, err := s.migrateOne(ctx, ms)
		if err != nil || done {
			return err
		}
	}
}

func (s *Store) migrateOne(ctx context.Context, ms []string) (done bool, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > len(ms) {
			return fmt.Errorf("schema version %d is newer than this binary knows (%d)", v, len(ms))
		}
		if v == len(ms) {
			done = true
			return nil
		}
		if _, err := tx.ExecContext(ctx, ms[v]); err != nil {
			return fmt.Errorf("apply migration %d: %w", v+1, err)
		}
		// PRAGMA does not take parameters; v+1 is an int we computed.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			return fmt.Errorf("set schema version %d: %w", v+1, err)
		}
		s.log.Info("migrated database", "version", v+1)
		return nil
	})
	return done, err
}

// SchemaVersion reports the file's PRAGMA user_version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// write runs fn in one immediate transaction and commits if fn returns nil.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
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
