package clocktest

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	c := New(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now = %v", c.Now())
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Advance(time.Minute) })
	}
	wg.Wait()
	if want := t0.Add(10 * time.Minute); !c.Now().Equal(want) {
		t.Fatalf("after 10 concurrent advances Now = %v, want %v", c.Now(), want)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Set: Now = %v", c.Now())
	}
}

// After fires only when the clock is moved past its deadline; Parked
// tells the test someone is waiting.
func TestAfterFiresOnAdvance(t *testing.T) {
	start := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	c := New(start)
	parked := c.Parked()
	ch := c.After(time.Minute)
	<-parked
	c.Advance(59 * time.Second)
	select {
	case <-ch:
		t.Fatal("fired before its deadline")
	default:
	}
	c.Advance(time.Second)
	if got := <-ch; !got.Equal(start.Add(time.Minute)) {
		t.Fatalf("fired at %v", got)
	}
	if got := <-c.After(0); !got.Equal(start.Add(time.Minute)) {
		t.Fatalf("After(0) = %v, want now", got)
	}
}
