package slack

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
)

// TestEphemeralRetriesAfter429 answers without a response_url, so
// chat.postEphemeral is used; Slack's 429s are waited out, not turned
// into a lost answer.
func TestEphemeralRetriesAfter429(t *testing.T) {
	e := newEnv(t)
	e.fake.RateLimit("chat.postEphemeral", 2, 5)
	r := e.adapter.newResponder("", "C1", "UALICE", time.Now())
	if err := r.Ephemeral(context.Background(), bot.Message{Text: "only you can see this"}); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.CallCount("chat.postEphemeral"); n != 3 {
		t.Errorf("chat.postEphemeral called %d times, want 3 (two 429s, then success)", n)
	}
	if eph := e.fake.Ephemerals(); len(eph) != 1 || eph[0].Via != "chat.postEphemeral" || eph[0].User != "UALICE" {
		t.Errorf("ephemerals = %+v", eph)
	}
	if w := e.waits.long(); !slices.Contains(w, 2*time.Second) || !slices.Contains(w, 5*time.Second) {
		t.Errorf("waits %v, want 2s and 5s (Retry-After)", w)
	}
}

// TestResponseURLRetriesAfter429 waits out a 429 on the response_url and
// posts there again, instead of falling back to chat.postEphemeral.
func TestResponseURLRetriesAfter429(t *testing.T) {
	e := newEnv(t)
	u := e.fake.ResponseURL()
	e.fake.RateLimit("response_url", 4)
	r := e.adapter.newResponder(u, "C1", "UALICE", time.Now())
	if err := r.Ephemeral(context.Background(), bot.Message{Text: "run r-1 queued"}); err != nil {
		t.Fatal(err)
	}
	if eph := e.fake.Ephemerals(); len(eph) != 1 || eph[0].Via != "response_url" || eph[0].URL != u {
		t.Errorf("ephemerals = %+v, want one through the response_url", eph)
	}
	if n := e.fake.ResponseURLPosts(u); n != 2 {
		t.Errorf("response_url posted %d times, want 2 (429, then success)", n)
	}
	if n := e.fake.CallCount("chat.postEphemeral"); n != 0 {
		t.Errorf("chat.postEphemeral called %d times, want 0", n)
	}
	if w := e.waits.long(); !slices.Contains(w, 4*time.Second) {
		t.Errorf("waits %v, want 4s (Retry-After)", w)
	}
}

// TestRateLimitRetryEndsWithContext: a caller that stops waiting gets its
// context's error instead of a goroutine stuck behind Retry-After.
func TestRateLimitRetryEndsWithContext(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.After = func(time.Duration) <-chan time.Time { return nil } // never
	})
	e.fake.RateLimit("chat.postEphemeral", 30)
	ctx, cancel := context.WithCancel(context.Background())
	r := e.adapter.newResponder("", "C1", "UALICE", time.Now())
	done := make(chan error, 1)
	go func() { done <- r.Ephemeral(ctx, bot.Message{Text: "late"}) }()
	waitFor(t, e.fake, nil, "the 429", func() bool { return e.fake.CallCount("chat.postEphemeral") == 1 })
	cancel()
	if err := <-done; err == nil {
		t.Error("ephemeral succeeded after its context ended")
	}
	if eph := e.fake.Ephemerals(); len(eph) != 0 {
		t.Errorf("ephemerals = %+v", eph)
	}
}

// TestUserInfoRetriesOnceAfterShort429: a short Retry-After on users.info
// is waited out once, so the name comes from Slack, not the payload.
func TestUserInfoRetriesOnceAfterShort429(t *testing.T) {
	e := newEnv(t)
	e.fake.RateLimit("users.info", 1)
	if code := e.post(t, "/slack/commands", []byte(e.commandForm("UBOB", "C1", "apps").Encode()), time.Now()); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, e.fake, e.rec, "the command", func() bool { return len(e.rec.Commands()) == 1 })
	if c := e.rec.Commands()[0]; c.UserName != "bob" {
		t.Errorf("name %q, want bob (from users.info)", c.UserName)
	}
	if n := e.fake.CallCount("users.info"); n != 2 {
		t.Errorf("users.info called %d times, want 2 (429, then success)", n)
	}
	if w := e.waits.long(); !slices.Contains(w, time.Second) {
		t.Errorf("waits %v, want 1s (Retry-After)", w)
	}
}

// TestUserInfoLongOr429AgainFallsBack: a long Retry-After, or a second
// 429, does not hold the command up: the payload's name is used.
func TestUserInfoLongOr429AgainFallsBack(t *testing.T) {
	for name, c := range map[string]struct {
		limits []int
		calls  int
	}{
		"long wait":     {limits: []int{30}, calls: 1}, // past the bound: no retry
		"limited twice": {limits: []int{1, 1}, calls: 2},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.fake.RateLimit("users.info", c.limits...)
			if code := e.post(t, "/slack/commands", []byte(e.commandForm("UBOB", "C1", "apps").Encode()), time.Now()); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			waitFor(t, e.fake, e.rec, "the command", func() bool { return len(e.rec.Commands()) == 1 })
			if got := e.rec.Commands()[0]; got.UserName != "ubob" {
				t.Errorf("name %q, want the payload's ubob", got.UserName)
			}
			if n := e.fake.CallCount("users.info"); n != c.calls {
				t.Errorf("users.info called %d times, want %d", n, c.calls)
			}
			if w := e.waits.long(); slices.Contains(w, 30*time.Second) {
				t.Errorf("waited %v for users.info", w)
			}
		})
	}
}
