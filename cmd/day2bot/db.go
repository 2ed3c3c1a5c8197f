package main

import (
	"strings"

	"context"

	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/sqlite"
)

// openStore opens the database --db names: a path is a SQLite file (one
// replica, the default).
func openStore(ctx context.Context, db string, opts ...store.Option) (*store.Store, error) {
	return sqlite.Open(ctx, db, opts...)
}

// isPostgres reports whether --db names a Postgres database rather than
// a file.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}
