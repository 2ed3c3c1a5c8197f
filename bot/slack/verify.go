package slack

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// replayWindow is how long Slack's signature timestamp is accepted
// (slack.NewSecretsVerifier enforces the same five minutes, both ways).
const replayWindow = 5 * time.Minute

// verify reads the body of r within the size limit and checks Slack's v0
// signature over it: HMAC-SHA256 of "v0:timestamp:body" with the signing
// secret, compared in constant time (hmac.Equal inside slack-go), with the
// timestamp within five minutes. An exact replay of a request already
// seen inside that window is refused too. Nothing of the body is parsed
// before this passes.
func (a *Adapter) verify(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if a.opts.SigningSecret == "" {
		return nil, errors.New("no signing secret configured")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.opts.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("body larger than %d bytes", mbe.Limit)
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	sv, err := slack.NewSecretsVerifier(r.Header, a.opts.SigningSecret)
	if err != nil {
		return nil, fmt.Errorf("check signature headers: %w", err)
	}
	if _, err := sv.Write(body); err != nil {
		return nil, fmt.Errorf("hash body: %w", err)
	}
	if err := sv.Ensure(); err != nil {
		return nil, fmt.Errorf("check signature: %w", err)
	}
	if !a.replay.first(r.Header.Get("X-Slack-Signature"), a.now()) {
		return nil, errors.New("replayed request")
	}
	return body, nil
}

// verified wraps next so that it only ever sees verified bodies; anything
// else gets 401 and one log line.
func (a *Adapter) verified(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := a.verify(w, r)
		if err != nil {
			a.log.WarnContext(r.Context(), "slack request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err.Error())
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next(w, r, body)
	})
}

// replayGuard remembers signatures seen within the replay window. Its
// size is bounded by the request rate times five minutes; expired entries
// are swept as new ones arrive.
type replayGuard struct {
	mu        sync.Mutex
	seen      map[string]time.Time
	nextSweep time.Time
}

func newReplayGuard() *replayGuard {
	return &replayGuard{seen: map[string]time.Time{}}
}

// first reports whether sig has not been seen in the window, and records it.
func (g *replayGuard) first(sig string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.After(g.nextSweep) {
		for s, exp := range g.seen {
			if now.After(exp) {
				delete(g.seen, s)
			}
		}
		g.nextSweep = now.Add(time.Minute)
	}
	if exp, ok := g.seen[sig]; ok && !now.After(exp) {
		return false
	}
	// Twice the window: the timestamp may be up to five minutes in the
	// future as well as in the past.
	g.seen[sig] = now.Add(2 * replayWindow)
	return true
}
