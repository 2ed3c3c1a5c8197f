package slack

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/slack/slackfake"
)

const (
	testToken  = "xoxb-test"
	testSecret = "8f742231b10e8888abcd99yyyzzz85a5"
)

// recorder is a test double of the engine: it records what it gets and
// answers through Reply the way the engine does, so adapter tests do not
// depend on the engine's rules. The end-to-end test of serve uses the
// real engine.
type recorder struct {
	mu       sync.Mutex
	commands []bot.Command
	actions  []bot.Action
	changed  chan struct{}
	// onCommand and onAction answer; nil records only.
	onCommand func(context.Context, bot.Command)
	onAction  func(context.Context, bot.Action)
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) HandleCommand(ctx context.Context, c bot.Command) {
	if r.onCommand != nil {
		r.onCommand(ctx, c)
	}
	r.record(func() { r.commands = append(r.commands, c) })
}

func (r *recorder) HandleAction(ctx context.Context, a bot.Action) {
	if r.onAction != nil {
		r.onAction(ctx, a)
	}
	r.record(func() { r.actions = append(r.actions, a) })
}

// record runs add under the lock and wakes the waiters.
func (r *recorder) record(add func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	add()
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) Commands() []bot.Command {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Command{}, r.commands...)
}

func (r *recorder) Actions() []bot.Action {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Action{}, r.actions...)
}

func (r *recorder) wait() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// waitFor waits until cond holds, waking on every change of the fake or
// the recorder; it never sleeps.
func waitFor(t *testing.T, fake *slackfake.Server, rec *recorder, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		var fc, rc <-chan struct{}
		fc = fake.Changed()
		if rec != nil {
			rc = rec.wait()
		}
		if cond() {
			return
		}
		select {
		case <-fc:
		case <-rc:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waits records the durations the adapter waited for (pacing, Retry-After)
// and returns at once for anything of a second or more, so tests never
// sleep for real seconds.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) after(d time.Duration) <-chan time.Time {
	if d >= time.Second {
		w.mu.Lock()
		w.d = append(w.d, d)
		w.mu.Unlock()
		d = time.Millisecond
	}
	return time.After(d)
}

func (w *waits) long() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration{}, w.d...)
}

type env struct {
	fake    *slackfake.Server
	adapter *Adapter
	rec     *recorder
	srv     *httptest.Server
	waits   *waits
}

func newEnv(t *testing.T, tweak ...func(*Options)) *env {
	t.Helper()
	fake := slackfake.New(testToken)
	t.Cleanup(fake.Close)
	fake.AddUser("UALICE", "alice")
	fake.AddUser("UBOB", "bob")
	w := &waits{}
	opts := Options{
		BotToken:      testToken,
		AppToken:      fake.AppToken,
		SigningSecret: testSecret,
		APIURL:        strings.TrimSuffix(fake.APIURL(), "/"), // normalised by New
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		PostInterval:  time.Millisecond,
		After:         w.after,
	}
	for _, f := range tweak {
		f(&opts)
	}
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	mux := http.NewServeMux()
	mux.Handle("/slack/commands", a.CommandsHandler(rec))
	mux.Handle("/slack/interactions", a.InteractionsHandler(rec))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("close adapter: %v", err)
		}
	})
	return &env{fake: fake, adapter: a, rec: rec, srv: srv, waits: w}
}

// commandForm is a slash command as Slack form-encodes it.
func (e *env) commandForm(user, channel, text string) url.Values {
	return url.Values{
		"token":        {"deprecated-verification-token"},
		"team_id":      {"T1"},
		"team_domain":  {"acme"},
		"channel_id":   {channel},
		"channel_name": {"ops"},
		"user_id":      {user},
		"user_name":    {strings.ToLower(user)},
		"command":      {"/day2"},
		"text":         {text},
		"api_app_id":   {"A1"},
		"response_url": {e.fake.ResponseURL()},
		"trigger_id":   {"13345224609.738474920.8088930838d88f008e0"},
	}
}

// post sends body to path signed as Slack would at time at.
func (e *env) post(t *testing.T, path string, body []byte, at time.Time) int {
	t.Helper()
	return e.postHeaders(t, path, body, slackfake.Sign(testSecret, at, body))
}

func (e *env) postHeaders(t *testing.T, path string, body []byte, h http.Header) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
