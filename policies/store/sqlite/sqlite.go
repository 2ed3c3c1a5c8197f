// Package sqlite is the store on one SQLite file: the embedded default, for
// one replica on one host.
//
// The schema is embedded and migrated by PRAGMA user_version. The file is
// opened in WAL mode with a busy timeout, and every write is an immediate
// transaction on one connection, so several processes may share one file on
// one host: a check-then-write cannot interleave with another writer.
// SQLite WAL needs a local disk, not NFS/EFS; past one host use
// policies/store/postgres.
//
// This is the only package that links the cgo SQLite driver.
package sqlite

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
	"strings"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver, registered as "sqlite3"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Open opens (creating if needed) the database at path and migrates it to
// the current schema.
func Open(ctx context.Context, path string, opts ...store.Option) (*store.Store, error) {
	return open(ctx, path, 0, opts...)
}

// open stops migrating after limit migrations when limit > 0; tests use it
// to build files of an older schema version.
func open(ctx context.Context, path string, limit int, opts ...store.Option) (*store.Store, error) {
	if path == "" {
		return nil, errs.E("open sqlite store", errs.Invalid, "database path is empty")
	}
	if err := createPrivate(path, store.LoggerOf(opts...)); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// wdb runs every write on a single connection: writers in this process
	// queue in database/sql instead of spinning in SQLite's busy handler;
	// writers in other processes are held off by BEGIN IMMEDIATE and the
	// busy timeout.
	wdb, err := sql.Open("sqlite3", dsn(path, "immediate"))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetConnMaxIdleTime(0)
	// rdb serves reads on as many connections as needed; WAL lets them run
	// beside the writer.
	rdb, err := sql.Open("sqlite3", dsn(path, "deferred"))
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s, err := store.New(ctx, store.Backend{
		Name: "sqlite", Write: wdb, Read: rdb,
		Migrate:       func(ctx context.Context, log *slog.Logger) error { return migrate(ctx, wdb, limit, log) },
		SchemaVersion: func(ctx context.Context) (int, error) { return schemaVersion(ctx, rdb) },
	}, opts...)
	if err != nil {
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

// migrations are the embedded schema files in order (store.Migrations).
func migrations() ([]string, error) { return store.Migrations(schemaFS) }

// migrate applies the migrations the file has not seen yet. Each runs in its
// own immediate transaction together with the user_version bump, so a crash
// leaves the file at a whole version, and two processes opening a fresh file
// at once do not both apply a migration.
func migrate(ctx context.Context, wdb *sql.DB, limit int, log *slog.Logger) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if limit > 0 && limit < len(ms) {
		ms = ms[:limit]
	}
	for {
		done, err := migrateOne(ctx, wdb, ms, log)
		if err != nil || done {
			return err
		}
	}
}

func migrateOne(ctx context.Context, wdb *sql.DB, ms []string, log *slog.Logger) (done bool, err error) {
	tx, err := wdb.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if err != nil || done {
			_ = tx.Rollback()
		}
	}()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if v > len(ms) {
		return false, fmt.Errorf("schema version %d is newer than this binary knows (%d)", v, len(ms))
	}
	if v == len(ms) {
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, ms[v]); err != nil {
		return false, fmt.Errorf("apply migration %d: %w", v+1, err)
	}
	// PRAGMA does not take parameters; v+1 is an int we computed.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("set schema version %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit migration %d: %w", v+1, err)
	}
	log.Info("migrated database", "version", v+1)
	return false, nil
}

// schemaVersion reports the file's PRAGMA user_version.
func schemaVersion(ctx context.Context, rdb *sql.DB) (int, error) {
	var v int
	if err := rdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
