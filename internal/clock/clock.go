// Package clock is the time source of everything that waits: schedules,
// alert polling, sweeps. Code takes a Clock; production passes Real, tests
// internal/clocktest's Clock, which moves only when the test says so.
package clock

import "time"

// Clock tells the time and wakes waiters.
type Clock interface {
	Now() time.Time
	// After delivers the time once d has passed, like time.After.
	After(d time.Duration) <-chan time.Time
}

// Real is the wall clock.
type Real struct{}

var _ Clock = Real{}

// Now is time.Now.
func (Real) Now() time.Time { return time.Now() }

// After is time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }
