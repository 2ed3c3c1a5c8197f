package discord

import (
	"sync"
	"time"
)

// dedupe remembers recently seen interaction ids: the gateway may deliver
// an event twice across a resume, and an interaction must run once. It is
// bounded both in time and in size.
type dedupe struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	seen  map[string]time.Time
	order []string // insertion order, for eviction
}

func newDedupe(max int, ttl time.Duration) *dedupe {
	return &dedupe{ttl: ttl, max: max, seen: map[string]time.Time{}}
}

// first reports whether id is new, and records it.
func (d *dedupe) first(id string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.order) > 0 {
		old := d.order[0]
		if len(d.order) < d.max && now.Sub(d.seen[old]) < d.ttl {
			break
		}
		delete(d.seen, old)
		d.order = d.order[1:]
	}
	if _, ok := d.seen[id]; ok {
		return false
	}
	d.seen[id] = now
	d.order = append(d.order, id)
	return true
}
