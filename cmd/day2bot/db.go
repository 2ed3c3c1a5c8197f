package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/postgres"
	"github.com/day2bot/day2bot/policies/store/sqlite"
)

// openStore opens the database --db names: postgres://… is a Postgres
// database that several replicas may share; anything else is the path of
// a SQLite file (one replica, the default).
func openStore(ctx context.Context, db string, opts ...store.Option) (*store.Store, error) {
	s, err := openServeStore(ctx, db, nil, opts...)
	if err != nil {
		return nil, err
	}
	return s.Store, nil
}

// leaseRetry is how often a replica that does not hold the singleton lease
// tries to take it, and how often the holder checks it still holds it: a
// dead holder's singletons move to another replica within about this long.
const leaseRetry = 2 * time.Second

// servedStore is the store serve runs on and, with several replicas, the
// lease its singletons (schedules, alarm watcher, recovery of runs of
// stopped replicas, the Discord gateway) run under.
type servedStore struct {
	*store.Store
	// lease is the singletons' lease on Postgres; nil on SQLite, where
	// one process is the only replica and always holds it.
	lease *postgres.Lease
}

func openServeStore(ctx context.Context, db string, log *slog.Logger, opts ...store.Option) (*servedStore, error) {
	if isPostgres(db) {
		d, err := postgres.Open(ctx, db, opts...)
		if err != nil {
			return nil, err
		}
		return &servedStore{Store: d.Store, lease: d.Lease("singletons", leaseRetry, log)}, nil
	}
	s, err := sqlite.Open(ctx, db, opts...)
	if err != nil {
		return nil, err
	}
	return &servedStore{Store: s}, nil
}

// shared reports whether other replicas may share the store.
func (s *servedStore) shared() bool { return s.lease != nil }

// isPostgres reports whether --db names a Postgres database rather than
// a file.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}
