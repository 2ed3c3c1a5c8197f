package postgres

import (
	"context"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"time"
)

// Lease is a singleton role among the replicas sharing the database: held
// by one replica at a time as a session advisory lock
// (pg_try_advisory_lock) on a connection of its own. The others try again
// every Retry. The holder pings its connection every Retry and takes a
// failed ping (or one that takes longer than Retry) for a lost lease. When
// the holder's process dies, its kernel closes the connection and the
// server ends the session at once; when its node is lost, the server ends
// it by TCP keepalive (set to about 11 s on the lease's connection). Either
// way the lock is released and another replica holds the lease within
// about Retry after that. A holder cut off from the server stops its
// singletons after about 2×Retry, before the server lets the lock go.
type Lease struct {
	d     *DB
	name  string
	key   int64
	retry time.Duration
	log   *slog.Logger
}

// Lease returns the lease called name in this database's schema, tried and
// checked every retry.
func (d *DB) Lease(name string, retry time.Duration, log *slog.Logger) *Lease {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Lease{d: d, name: name, key: d.lockKey("lease\x00" + name), retry: retry, log: log}
}

// Hold runs fn each time this replica comes to hold the lease, with a
// context that ends when the lease is lost or ctx ends; fn must return
// then. Hold returns when ctx ends, after fn has returned and the lease is
// released.
func (l *Lease) Hold(ctx context.Context, fn func(ctx context.Context)) {
	for {
		held, err := l.holdOnce(ctx, fn)
		if err != nil && ctx.Err() == nil {
			l.log.WarnContext(ctx, "lease", "lease", l.name, "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if held {
			l.log.WarnContext(ctx, "lease lost", "lease", l.name)
		}
		t := time.NewTimer(l.retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// holdOnce tries the lock once; if it gets it, it runs fn until the lease
// is lost or ctx ends.
func (l *Lease) holdOnce(ctx context.Context, fn func(ctx context.Context)) (held bool, err error) {
	conn, err := l.d.sql.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("connect for lease %s: %w", l.name, err)
	}
	// The connection is closed, never returned to the pool: closing the
	// session is what releases the lock, whatever state it is in.
	defer conn.Raw(func(any) error { return driver.ErrBadConn })
	// A holder whose node is lost sends no FIN: the server notices the dead
	// session only by TCP keepalive, after two hours by the Linux
	// defaults. These make it about 11 s (5 s idle, then 3 probes 2 s
	// apart), so the lease moves within 15 s of a node loss too. They are
	// ignored on a Unix socket.
	if _, err := conn.ExecContext(ctx, `SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3; SET tcp_user_timeout = 11000`); err != nil {
		return false, fmt.Errorf("set keepalives of lease %s: %w", l.name, err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, l.key).Scan(&ok); err != nil {
		return false, fmt.Errorf("try lease %s: %w", l.name, err)
	}
	if !ok {
		return false, nil
	}
	l.log.InfoContext(ctx, "lease held", "lease", l.name)
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(hctx)
	}()
	t := time.NewTicker(l.retry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
		case <-done:
			err = fmt.Errorf("lease %s: the holder stopped", l.name)
		case <-t.C:
			pctx, pcancel := context.WithTimeout(ctx, l.retry)
			err = conn.PingContext(pctx)
			pcancel()
			if err == nil {
				continue
			}
			err = fmt.Errorf("lease %s: ping: %w", l.name, err)
		}
		cancel()
		<-done
		return true, err
	}
}
