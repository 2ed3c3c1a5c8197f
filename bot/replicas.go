package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// Replicas sharing one store (Options.Shared): each beats its heart, takes
// over the queued runs of replicas that stopped, and the lease holder
// interrupts the runs they left running (RecoverOrphans).

// replicaLoop beats this replica's heart and hands its idle workers queued
// runs whose replica stopped or that waited StaleAfter, until ctx ends.
func (e *Engine) replicaLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.opts.Clock.After(e.opts.Heartbeat):
		}
		if err := e.store.Heartbeat(ctx, e.opts.Replica, e.now()); err != nil && ctx.Err() == nil {
			e.log.WarnContext(ctx, "replica heartbeat", "err", err)
		}
		e.takeQueued(ctx)
	}
}

// takeQueued hands this replica's idle workers queued runs whose replica
// stopped or that waited StaleAfter.
func (e *Engine) takeQueued(ctx context.Context) {
	now := e.now()
	ids, err := e.store.TakeQueued(ctx, e.opts.Replica, e.runner.idle(), now, now.Add(-e.opts.StaleAfter))
	if err != nil && ctx.Err() == nil {
		e.log.WarnContext(ctx, "take queued runs", "err", err)
	}
	for _, id := range ids {
		e.log.InfoContext(ctx, "taking over queued run", "run", id)
		e.runner.enqueue(id)
	}
}

// RecoverOrphans marks interrupted, and announces once, the runs left
// running by replicas that stopped beating their heart (killed, or cut off
// from the database) for StaleAfter. With replicas sharing the store, the
// lease holder calls it periodically; each run is announced by one caller.
func (e *Engine) RecoverOrphans(ctx context.Context) error {
	now := e.now()
	rs, err := e.store.InterruptOrphans(ctx, now, now.Add(-e.opts.StaleAfter))
	e.mu.Lock()
	bg := e.loopCtx
	e.mu.Unlock()
	if bg == nil {
		bg = ctx
	}
	e.interrupted(ctx, bg, rs)
	return err
}

// NewReplicaID is a random id for one process among replicas.
func NewReplicaID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "rep-" + hex.EncodeToString(b)
}
