package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSeenOnce(t *testing.T) {
	ctx := context.Background()
	s, clk, path := openTemp(t)
	until := clk.Now().Add(5 * time.Minute)
	steps := []struct {
		name      string
		store     *Store
		key       string
		advance   time.Duration
		wantFirst bool
	}{
		{"first sight", s, "slack:abc", 0, true},
		{"replay", s, "slack:abc", 0, false},
		{"another key", s, "discord:1", 0, true},
		{"replay after a restart", nil, "slack:abc", time.Minute, false},
		{"at the end of the window", nil, "slack:abc", 4 * time.Minute, false},
		{"after the window", nil, "slack:abc", time.Second, true},
	}
	var reopened *Store
	for _, st := range steps {
		clk.Advance(st.advance)
		store := st.store
		if store == nil {
			if reopened == nil {
				// A new process on the same file.
				s.Close()
				reopened = openAt(t, path, clk)
			}
			store = reopened
		}
		first, err := store.SeenOnce(ctx, st.key, until)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if first != st.wantFirst {
			t.Errorf("%s: first = %v, want %v", st.name, first, st.wantFirst)
		}
	}
	// Expired keys are pruned: only the re-seen one is left.
	var n int
	if err := reopened.rdb.QueryRowContext(ctx, `SELECT count(*) FROM seen_requests`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d rows kept, want 1 (expired keys pruned)", n)
	}
	if _, err := reopened.SeenOnce(ctx, "", until); err == nil {
		t.Error("empty key accepted")
	}
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
