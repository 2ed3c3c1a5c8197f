package slack

import (
	"context"
	"testing"
	"time"
)

func TestHandoverBoundsConcurrency(t *testing.T) {
	h := newHandover(1, time.Hour)
	release := make(chan struct{})
	started := make(chan int, 2)
	h.Go(context.Background(), func(context.Context) { started <- 1; <-release })
	if got := <-started; got != 1 {
		t.Fatal(got)
	}
	h.Go(context.Background(), func(context.Context) { started <- 2 })
	select {
	case <-started:
		t.Fatal("second ran while the only slot was busy")
	default:
	}
	close(release)
	if got := <-started; got != 2 {
		t.Fatal(got)
	}
	h.Wait()
}

func TestHandoverRunsAfterMaxWait(t *testing.T) {
	// A slow holder (think: blocked on a paced channel) does not hold up
	// the next piece of work for longer than maxWait.
	h := newHandover(1, time.Millisecond)
	release := make(chan struct{})
	held := make(chan struct{})
	h.Go(context.Background(), func(context.Context) { close(held); <-release })
	<-held
	ran := make(chan struct{})
	h.Go(context.Background(), func(context.Context) { close(ran) })
	<-ran
	close(release)
	h.Wait()
}

func TestHandoverSlotYieldedWhileWaitingForAChannel(t *testing.T) {
	h := newHandover(1, time.Hour)
	release := make(chan struct{})
	yielded := make(chan struct{})
	h.Go(context.Background(), func(ctx context.Context) {
		yieldSlot(ctx) // as outbox.do does before waiting for the pace
		close(yielded)
		<-release
	})
	<-yielded
	ran := make(chan struct{})
	h.Go(context.Background(), func(context.Context) { close(ran) })
	<-ran // the slot was free although the first is still blocked
	close(release)
	h.Wait()
}
