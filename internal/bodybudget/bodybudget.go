// Package bodybudget bounds the request body bytes serve holds at once,
// across all requests. Chat requests must be read whole before their
// signature can be checked, so without a bound a thousand connections
// with bogus signatures and large bodies cost a thousand bodies of memory.
// A request reserves its declared size before anything reads its body;
// when the budget is spent it is answered 503 at once.
package bodybudget

import (
	"net/http"
	"sync"
)

// Budget is the shared bound. It is safe for concurrent use.
type Budget struct {
	total, perRequest int64

	mu   sync.Mutex
	used int64

	// OnChange, if set, is told the bytes reserved after each change
	// (a gauge); OnRefuse of each request refused for want of budget.
	OnChange func(used int64)
	OnRefuse func()
}

// New returns a budget of total bytes in flight, of which one request may
// hold at most perRequest (larger bodies are refused with 413).
func New(total, perRequest int64) *Budget {
	return &Budget{total: total, perRequest: min(perRequest, total)}
}

// Limit wraps h: the request's body is reserved before h runs (its
// Content-Length, or the per-request maximum when the length is not
// declared) and released when h returns, and h cannot read past it.
func (b *Budget) Limit(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.ContentLength
		switch {
		case n > b.perRequest:
			w.Header().Set("Connection", "close")
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		case n < 0:
			n = b.perRequest
		}
		if !b.reserve(n) {
			if b.OnRefuse != nil {
				b.OnRefuse()
			}
			// Close the connection: the unread body is not worth draining.
			w.Header().Set("Connection", "close")
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy, try again", http.StatusServiceUnavailable)
			return
		}
		defer b.release(n)
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		h.ServeHTTP(w, r)
	})
}

func (b *Budget) reserve(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.total {
		return false
	}
	b.used += n
	b.changed()
	return true
}

func (b *Budget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	b.changed()
}

// changed runs under mu, so the gauge sees changes in order.
func (b *Budget) changed() {
	if b.OnChange != nil {
		b.OnChange(b.used)
	}
}
