package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/storetest"
)

func newClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
}

// openAt opens a store at path, closed when the test ends.
func openAt(t *testing.T, path string, clk *clocktest.Clock, opts ...store.Option) *store.Store {
	t.Helper()
	s, err := Open(context.Background(), path, append([]store.Option{store.WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openTemp(t *testing.T) (*store.Store, *clocktest.Clock, string) {
	t.Helper()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "day2bot.db")
	return openAt(t, path, clk), clk, path
}

func TestOpenMigratesFreshFile(t *testing.T) {
	s, _, _ := openTemp(t)
	v, err := s.SchemaVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if v != len(ms) || v < 2 {
		t.Fatalf("schema version = %d, want %d", v, len(ms))
	}
}

func TestOpenEmptyFileAndForeignFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	s := openAt(t, empty, clk)
	if err := s.AddMember(ctx, "admin", "ops", "carol"); err != nil {
		t.Fatalf("write after migrating an empty file: %v", err)
	}

	// A SQLite file at user_version 0 that already has an unrelated table.
	other := filepath.Join(dir, "v0.db")
	raw, err := sql.Open("sqlite3", "file:"+other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('keep me')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	s2 := openAt(t, other, clk)
	if v, _ := s2.SchemaVersion(ctx); v < 2 {
		t.Fatalf("version = %d", v)
	}
	raw, err = sql.Open("sqlite3", "file:"+other)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var x string
	if err := raw.QueryRow(`SELECT x FROM notes`).Scan(&x); err != nil || x != "keep me" {
		t.Fatalf("foreign table lost: %q %v", x, err)
	}
}

func TestMigrateFromVersion1KeepsData(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := open(ctx, path, 1, store.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := old.SchemaVersion(ctx); v != 1 {
		t.Fatalf("old version = %d", v)
	}
	if err := old.ImportFile(ctx, "admin", loadFile(t, "policy.yaml")); err != nil {
		t.Fatal(err)
	}
	want := exportYAML(t, old)
	old.Close()

	s := openAt(t, path, clk)
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SchemaVersion(ctx); v != len(ms) {
		t.Fatalf("version after upgrade = %d, want %d", v, len(ms))
	}
	if got := exportYAML(t, s); !bytes.Equal(got, want) {
		t.Fatalf("policy changed by migration:\n%s\n---\n%s", want, got)
	}
	if _, err := s.CreateRun(ctx, store.Run{App: "shop", Task: "scale", Principal: "slack:U1"}); err != nil {
		t.Fatalf("table from migration 2 missing: %v", err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "future.db")
	raw, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if s, err := Open(context.Background(), path); err == nil {
		s.Close()
		t.Fatal("opened a file from a newer binary")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("error = %v", err)
	}
}

func TestOpenOddFileName(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "my db?#%41.db")
	s := openAt(t, path, clk)
	if err := s.AddMember(ctx, "admin", "ops", "carol"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the given name: %v", err)
	}
	if gs, _ := openAt(t, path, clk).Groups(ctx); len(gs["ops"]) != 1 {
		t.Fatalf("reopened groups = %v", gs)
	}
}

func loadFile(t *testing.T, name string) policies.File {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var f policies.File
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return f
}

func exportYAML(t *testing.T, s *store.Store) []byte {
	t.Helper()
	f, err := s.ExportFile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The same encoding as `day2bot policy export`.
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestContract runs the store contract suite on a fresh file per test.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Database {
		path := filepath.Join(t.TempDir(), "day2bot.db")
		return storetest.Database{
			Open: func(t *testing.T, opts ...store.Option) *store.Store {
				t.Helper()
				s, err := Open(context.Background(), path, opts...)
				if err != nil {
					t.Fatalf("Open(%s): %v", path, err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			},
			Exec: func(ctx context.Context, q string) error {
				raw, err := sql.Open("sqlite3", dsn(path, "immediate"))
				if err != nil {
					return err
				}
				defer raw.Close()
				_, err = raw.ExecContext(ctx, q)
				return err
			},
			QueryInt: func(ctx context.Context, q string) (int, error) {
				raw, err := sql.Open("sqlite3", dsn(path, "deferred"))
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

func TestDatabaseFilesArePrivate(t *testing.T) {
	ctx := context.Background()
	s, clk, path := openTemp(t)
	// Write something so the -wal and -shm files exist.
	if _, err := s.SeenOnce(ctx, "k", clk.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", filepath.Base(p), m)
		}
	}

	// A file an older version left world-readable is narrowed on open.
	old := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(old, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(old, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	openAt(t, old, clk)
	if fi, err := os.Stat(old); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("old file: %v %v, want -rw-------", fi.Mode(), err)
	}
}
