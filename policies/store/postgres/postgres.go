// Package postgres is the store on PostgreSQL, for several replicas of
// day2bot sharing one database (--db postgres://…).
//
// It speaks to the server with pgx through database/sql, so the store's
// one implementation runs here as on SQLite. The schema is embedded and
// versioned in a schema_migrations table; migrations run under a
// transaction-scoped advisory lock, so replicas starting together migrate
// once. Replicas share the work through row locks; the singletons
// (scheduler, alarm watcher, recovery, Discord gateway) run under a Lease.
//
// All names (tables, advisory-lock keys) live in the connection's current
// schema: several deployments, or tests, may share one database by giving
// each its own schema (search_path in the DSN).
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// DB is an open Postgres database: the store on it, and the leases its
// replicas share.
type DB struct {
	*store.Store
	sql    *sql.DB
	schema string
}

// Open connects to the database dsn names (postgres://…), migrates it to
// the current schema and returns the store on it.
func Open(ctx context.Context, dsn string, opts ...store.Option) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errs.Wrap("open postgres store", errs.Invalid, err, "the Postgres DSN is not valid")
	}
	db := stdlib.OpenDB(*cfg)
	// Leases hold one connection each for as long as they are held.
	db.SetMaxOpenConns(10)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	fail := func(err error) (*DB, error) {
		db.Close()
		return nil, fmt.Errorf("open postgres database %s@%s/%s: %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fail(err)
	}
	if !schema.Valid {
		return fail(errors.New("no schema of the search_path exists"))
	}
	d := &DB{sql: db, schema: schema.String}
	s, err := store.New(ctx, store.Backend{
		Name: "postgres", Write: db, Read: db, Numbered: true,
		SerialLock: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", d.lockKey("write")),
		ForUpdate:  " FOR UPDATE",
		SkipLocked: " FOR UPDATE SKIP LOCKED",
		Migrate: func(ctx context.Context, log *slog.Logger) error {
			return migrate(ctx, db, d.lockKey("migrate"), log)
		},
		SchemaVersion: func(ctx context.Context) (int, error) { return schemaVersion(ctx, db) },
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("open postgres database %s@%s/%s: %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	d.Store = s
	return d, nil
}

// lockKey is the advisory-lock key of a purpose in this schema. Advisory
// locks are per database, not per schema, so the schema is part of the key.
func (d *DB) lockKey(purpose string) int64 {
	h := fnv.New64a()
	h.Write([]byte("day2bot\x00" + d.schema + "\x00" + purpose))
	return int64(h.Sum64())
}

// migrations are the embedded schema files in order (store.Migrations).
func migrations() ([]string, error) { return store.Migrations(schemaFS) }

// migrate applies the migrations the database has not seen, each in its own
// transaction with its row in schema_migrations, under an advisory lock so
// that replicas starting at once apply each migration once.
func migrate(ctx context.Context, db *sql.DB, key int64, log *slog.Logger) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	for {
		done, err := migrateOne(ctx, db, key, ms, log)
		if err != nil || done {
			return err
		}
	}
}

func migrateOne(ctx context.Context, db *sql.DB, key int64, ms []string, log *slog.Logger) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if err != nil || done {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, key); err != nil {
		return false, fmt.Errorf("lock migrations: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return false, fmt.Errorf("create schema_migrations: %w", err)
	}
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if v > len(ms) {
		return false, fmt.Errorf("schema version %d is newer than this binary knows (%d)", v, len(ms))
	}
	if v == len(ms) {
		return true, nil
	}
	// No arguments: pgx sends the file as one simple query, so a migration
	// may hold several statements.
	if _, err := tx.ExecContext(ctx, ms[v]); err != nil {
		return false, fmt.Errorf("apply migration %d: %w", v+1, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v+1); err != nil {
		return false, fmt.Errorf("record migration %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit migration %d: %w", v+1, err)
	}
	log.Info("migrated database", "version", v+1)
	return false, nil
}

func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
