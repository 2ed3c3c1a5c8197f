// Package clocktest is the settable clock tests inject wherever the code
// takes a clock.Clock, a func() time.Time or a Now method: tests move time
// by hand instead of sleeping. It lives outside _test files so every
// package's tests share one instead of each writing its own.
package clocktest

import (
	"sync"
	"time"

	"github.com/day2bot/day2bot/internal/clock"
)

// Clock is safe for concurrent use; the zero value reads as time zero.
type Clock struct {
	mu      sync.Mutex
	t       time.Time
	waiters []waiter
	parked  chan struct{}
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

var _ clock.Clock = (*Clock)(nil)

// New returns a clock reading t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// After delivers once the clock has been moved d past now.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.waiters = append(c.waiters, waiter{c.t.Add(d), ch})
	if c.parked != nil {
		select {
		case c.parked <- struct{}{}:
		default:
		}
	}
	return ch
}

// Parked receives (without blocking the waiter) each time code starts
// waiting on After: a test advances the clock once the code under test is
// parked, instead of guessing with a sleep.
func (c *Clock) Parked() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.parked == nil {
		c.parked = make(chan struct{}, 64)
	}
	return c.parked
}

// Set moves the clock to t, waking the waiters it passes.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
	c.wake()
}

// Advance moves the clock forward by d, waking the waiters it passes.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.wake()
}

// wake delivers to every waiter that is due. Caller holds mu.
func (c *Clock) wake() {
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.t) {
			keep = append(keep, w)
			continue
		}
		w.ch <- c.t
	}
	c.waiters = keep
}
