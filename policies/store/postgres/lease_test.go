package postgres

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/day2bot/day2bot/policies/store/postgres/pgtest"
)

// holder runs a lease's Hold in the background and reports each time it
// comes to hold the lease and each time it lets go.
type holder struct {
	got, lost chan struct{}
	stop      context.CancelFunc
	done      chan struct{}
}

func hold(t *testing.T, l *Lease) *holder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &holder{got: make(chan struct{}, 4), lost: make(chan struct{}, 4), stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		l.Hold(ctx, func(ctx context.Context) {
			h.got <- struct{}{}
			<-ctx.Done()
			h.lost <- struct{}{}
		})
	}()
	t.Cleanup(func() { cancel(); <-h.done })
	return h
}

// wait waits for a report; the bound only keeps a broken lease from
// hanging the test.
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

// One replica holds a lease at a time; when it stops, or the server ends
// its session, another takes over.
func TestLeaseOneHolderAndTakeover(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	dbs := []*DB{open(t, dsn), open(t, dsn), open(t, dsn)}
	var hs []*holder
	for _, d := range dbs {
		hs = append(hs, hold(t, d.Lease("singletons", 50*time.Millisecond, nil)))
	}
	first := -1
	select {
	case <-hs[0].got:
		first = 0
	case <-hs[1].got:
		first = 1
	case <-hs[2].got:
		first = 2
	case <-time.After(30 * time.Second):
		t.Fatal("nobody holds the lease")
	}
	// The holder stops: one of the others holds it.
	hs[first].stop()
	wait(t, hs[first].lost, "the first holder letting go")
	<-hs[first].done
	second := -1
	select {
	case <-hs[(first+1)%3].got:
		second = (first + 1) % 3
	case <-hs[(first+2)%3].got:
		second = (first + 2) % 3
	case <-time.After(30 * time.Second):
		t.Fatal("nobody took the lease over")
	}
	third := 3 - first - second
	// The server ends the holder's session (as when its process dies or
	// it is cut off): it notices, lets go, and the last one takes over.
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objid = ($1::bigint & 4294967295) AND classid = (($1::bigint >> 32) & 4294967295)`,
		dbs[second].lockKey("lease\x00singletons")).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("terminated %d lease sessions, want 1", n)
	}
	wait(t, hs[second].lost, "the second holder noticing its session ended")
	select {
	case <-hs[third].got:
	case <-hs[second].got: // it may win the lock again; then stop it
		hs[second].stop()
		wait(t, hs[third].got, "the third replica taking over")
	case <-time.After(30 * time.Second):
		t.Fatal("nobody took the lease over after the session ended")
	}
	if len(hs[first].got) != 0 {
		t.Fatal("a stopped replica holds the lease")
	}
}
