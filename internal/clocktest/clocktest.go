// Package clocktest is the settable clock tests inject wherever the code
// takes a func() time.Time or a Now method: tests move time by hand instead
// of sleeping. It lives outside _test files so every package's tests share
// one instead of each writing its own.
package clocktest

import (
	"sync"
	"time"
)

// Clock is safe for concurrent use; the zero value reads as time zero.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock reading t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
