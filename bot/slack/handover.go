package slack

import (
	"sync"
	"time"
)

// handover runs the engine's work for acked requests in the background
// with bounded concurrency. An ack is cheap and Slack gives up after 3 s;
// the engine's work (users.info, SQLite, policy, replies) is not. Left
// unbounded, a burst of commands makes every ack share the CPU with all
// the work the burst started; bounded, the acks go first. Work that has
// waited maxWait for a slot runs regardless, so a few slow commands (for
// example blocked on a paced channel) never hold up the rest.
type handover struct {
	slots   chan struct{}
	maxWait time.Duration
	wg      sync.WaitGroup
}

func newHandover(concurrency int, maxWait time.Duration) *handover {
	return &handover{slots: make(chan struct{}, concurrency), maxWait: maxWait}
}

// Go runs f soon, in its own goroutine.
func (h *handover) Go(f func()) {
	h.wg.Go(func() {
		t := time.NewTimer(h.maxWait)
		select {
		case h.slots <- struct{}{}:
			t.Stop()
			defer func() { <-h.slots }()
		case <-t.C:
		}
		f()
	})
}

// Wait returns when every f handed to Go has returned.
func (h *handover) Wait() { h.wg.Wait() }
