package slack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/day2bot/day2bot/internal/bodybudget"
	"github.com/day2bot/day2bot/internal/replay"
)

// replayWindow is how long Slack's signature timestamp is accepted
// (slack.NewSecretsVerifier enforces the same five minutes, both ways).
const replayWindow = 5 * time.Minute

// ReplayMemory remembers the signed requests already served. The store
// implements it, so a restart does not forget; without one the adapter
// keeps the memory in process (internal/replay).
type ReplayMemory interface {
	// SeenOnce records key until the given time and reports whether it
	// was new.
	SeenOnce(ctx context.Context, key string, until time.Time) (first bool, err error)
}

var _ ReplayMemory = (*replay.Memory)(nil)

// errReplay and errMemory are refusals of a request that verified: seen
// before, or the replay memory could not say.
var (
	errReplay = errors.New("replayed request")
	errMemory = errors.New("replay memory unavailable")
)

// verify checks Slack's v0 signature of r and returns its body: the
// timestamp within five minutes (before the body is read), then
// HMAC-SHA256 of "v0:timestamp:body" with the signing secret, compared in
// constant time (hmac.Equal inside slack-go), then that the same request
// was not served before. Nothing of the body is parsed before this passes.
func (a *Adapter) verify(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if a.opts.SigningSecret == "" {
		return nil, errors.New("no signing secret configured")
	}
	sv, err := slack.NewSecretsVerifier(r.Header, a.opts.SigningSecret)
	if err != nil {
		return nil, fmt.Errorf("check signature headers: %w", err)
	}
	raw, done, err := bodybudget.Read(w, r, a.opts.MaxBody)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("body larger than %d bytes", mbe.Limit)
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	defer done()
	if _, err := sv.Write(raw); err != nil {
		return nil, fmt.Errorf("hash body: %w", err)
	}
	if err := sv.Ensure(); err != nil {
		return nil, fmt.Errorf("check signature: %w", err)
	}
	// Only a verified body outlives the request's buffer; Slack's are a
	// few KiB.
	body := bytes.Clone(raw)
	ts := r.Header.Get("X-Slack-Timestamp")
	first, err := a.replay.SeenOnce(r.Context(), replayKey(ts, body), replayUntil(ts, a.now()))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errMemory, err)
	}
	if !first {
		return nil, errReplay
	}
	return body, nil
}

// replayKey names a verified request by what its signature covers, not by
// the header's spelling: slack-go decodes the hex signature, so an
// upper-case copy of a captured header verifies too and must be the same
// key.
func replayKey(ts string, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "v0:%s:", ts)
	h.Write(body)
	return "slack:" + hex.EncodeToString(h.Sum(nil))
}

// replayUntil is when a request signed at ts stops passing the freshness
// check; a second more covers rounding.
func replayUntil(ts string, now time.Time) time.Time {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		// Verified requests have a numeric timestamp; be generous anyway.
		return now.Add(2 * replayWindow)
	}
	return time.Unix(sec, 0).Add(replayWindow + time.Second)
}

// verified wraps next so that it only ever sees verified bodies; anything
// else gets 401 (503 when the replay memory fails) and one log line.
func (a *Adapter) verified(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := a.verify(w, r)
		if errors.Is(err, errMemory) {
			a.log.ErrorContext(r.Context(), "slack request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		if err != nil {
			a.log.WarnContext(r.Context(), "slack request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "reason", err.Error())
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next(w, r, body)
	})
}
