package slack

import (
	"context"
	"sync"
	"time"
)

// handover runs the engine's work for acked requests in the background
// with bounded concurrency. An ack is cheap and Slack gives up after 3 s;
// the engine's work (users.info, SQLite, policy, replies) is not. Left
// unbounded, a burst of commands makes every ack share the CPU with all
// the work the burst started; bounded, the acks go first.
//
// A piece of work gives its slot back as soon as it waits for a paced
// channel (outbox), where it uses no CPU and could wait for seconds; work
// that has waited maxWait for a slot runs regardless, so nothing else that
// blocks can hold up the rest for long either.
type handover struct {
	slots   chan struct{}
	maxWait time.Duration
	wg      sync.WaitGroup
}

func newHandover(concurrency int, maxWait time.Duration) *handover {
	return &handover{slots: make(chan struct{}, concurrency), maxWait: maxWait}
}

// slotKey carries the release of the running work's slot in its context.
type slotKey struct{}

// Go runs f soon, in its own goroutine, with a context derived from ctx
// that lets yieldSlot give the slot back early.
func (h *handover) Go(ctx context.Context, f func(context.Context)) {
	h.wg.Go(func() {
		release := func() {}
		t := time.NewTimer(h.maxWait)
		select {
		case h.slots <- struct{}{}:
			t.Stop()
			release = sync.OnceFunc(func() { <-h.slots })
		case <-t.C:
		}
		defer release()
		f(context.WithValue(ctx, slotKey{}, release))
	})
}

// Wait returns when every f handed to Go has returned.
func (h *handover) Wait() { h.wg.Wait() }

// doneWhen runs wait in the background and returns a channel closed once
// it returns, so a wait can be one case of a select.
func doneWhen(wait func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait()
	}()
	return done
}

// yieldSlot gives back the handover slot of the work running with ctx, if
// any: called before waiting on something slow that needs no CPU.
func yieldSlot(ctx context.Context) {
	if release, ok := ctx.Value(slotKey{}).(func()); ok {
		release()
	}
}
