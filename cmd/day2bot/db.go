package main

import (
	"context"
	"strings"

	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/postgres"
	"github.com/day2bot/day2bot/policies/store/sqlite"
)

// openStore opens the database --db names: postgres://… is a Postgres
// database that several replicas may share; anything else is the path of
// a SQLite file (one replica, the default).
func openStore(ctx context.Context, db string, opts ...store.Option) (*store.Store, error) {
	if isPostgres(db) {
		d, err := postgres.Open(ctx, db, opts...)
		if err != nil {
			return nil, err
		}
		return d.Store, nil
	}
	return sqlite.Open(ctx, db, opts...)
}

// isPostgres reports whether --db names a Postgres database rather than
// a file.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}
