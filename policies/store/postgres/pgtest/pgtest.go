// Package pgtest gives each test its own schema in the Postgres database
// named by DAY2BOT_TEST_POSTGRES, so tests of several packages can share
// one database at once.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvDSN is the variable naming the test database.
const EnvDSN = "DAY2BOT_TEST_POSTGRES"

// DefaultDSN is the test database when EnvDSN is not set: a local
// PostgreSQL with trust authentication and a database named test, as on
// the development and CI machines (README, "Development").
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DSN returns the test database's DSN. The Postgres tests are never
// skipped: a database that cannot be reached fails them (Schema says how
// to point them at one).
func DSN(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// Schema creates a fresh schema in the test database, drops it when the
// test ends, and returns a DSN whose search_path is that schema. A server
// that cannot be reached fails the test.
func Schema(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", redacted(dsn), err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		admin.Close()
		t.Fatalf("create a test schema in %s: %v\n(the Postgres backend's tests need a PostgreSQL: start one with trust auth and a database test on 127.0.0.1:5432, or set %s to a DSN)", redacted(dsn), err, EnvDSN)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvDSN, err)
	}
	q := u.Query()
	q.Set("search_path", name)
	// Tests need no durability across a server crash, and a commit that
	// waits for the disk makes the suite ten times slower.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

// redacted is dsn without its password, for test failures.
func redacted(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return EnvDSN
}
