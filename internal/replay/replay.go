// Package replay is the in-process replay memory of the chat adapters: the
// keys of signed requests already served, each kept until its freshness
// window ends. serve gives the adapters the store instead, which survives a
// restart; this one is for tests and tools that run without a database.
package replay

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Memory implements the adapters' ReplayMemory in a map. Its size is the
// request rate times the window; expired keys are swept as new ones come.
type Memory struct {
	mu        sync.Mutex
	now       func() time.Time
	seen      map[string]time.Time
	nextSweep time.Time
}

// NewMemory returns an empty memory reading time from now (nil: time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, seen: map[string]time.Time{}}
}

// SeenOnce records key until the given time and reports whether it was new.
func (m *Memory) SeenOnce(_ context.Context, key string, until time.Time) (bool, error) {
	if key == "" {
		return false, errors.New("remember request: empty key")
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.After(m.nextSweep) {
		for k, exp := range m.seen {
			if now.After(exp) {
				delete(m.seen, k)
			}
		}
		m.nextSweep = now.Add(time.Minute)
	}
	if exp, ok := m.seen[key]; ok && !now.After(exp) {
		return false, nil
	}
	m.seen[key] = until
	return true, nil
}
