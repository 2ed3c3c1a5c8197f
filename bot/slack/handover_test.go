package slack

import (
	"testing"
	"time"
)

func TestHandoverBoundsConcurrency(t *testing.T) {
	h := newHandover(1, time.Hour)
	release := make(chan struct{})
	started := make(chan int, 2)
	h.Go(func() { started <- 1; <-release })
	if got := <-started; got != 1 {
		t.Fatal(got)
	}
	h.Go(func() { started <- 2 })
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
	h.Go(func() { close(held); <-release })
	<-held
	ran := make(chan struct{})
	h.Go(func() { close(ran) })
	<-ran
	close(release)
	h.Wait()
}
