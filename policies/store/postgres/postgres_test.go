package postgres

import (
	"context"
	"database/sql"
	"testing"

	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/postgres/pgtest"
	"github.com/day2bot/day2bot/policies/store/storetest"
)

// TestContract runs the store contract suite on a fresh schema per test.
func TestContract(t *testing.T) {
	pgtest.DSN(t)
	storetest.Run(t, func(t *testing.T) storetest.Database {
		dsn := pgtest.Schema(t)
		return storetest.Database{
			Open: func(t *testing.T, opts ...store.Option) *store.Store {
				t.Helper()
				d := open(t, dsn, opts...)
				return d.Store
			},
			Exec: func(ctx context.Context, q string) error {
				raw, err := sql.Open("pgx", dsn)
				if err != nil {
					return err
				}
				defer raw.Close()
				_, err = raw.ExecContext(ctx, q)
				return err
			},
			QueryInt: func(ctx context.Context, q string) (int, error) {
				raw, err := sql.Open("pgx", dsn)
				if err != nil {
					return 0, err
				}
				defer raw.Close()
				var n int
				err = raw.QueryRowContext(ctx, q).Scan(&n)
				return n, err
			},
		}
	})
}

func open(t *testing.T, dsn string, opts ...store.Option) *DB {
	t.Helper()
	d, err := Open(context.Background(), dsn, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
