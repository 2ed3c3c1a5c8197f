package slack

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot/slack/slackfake"
	"github.com/day2bot/day2bot/policies/store/sqlite"
)

// A captured request must run once however its signature header is
// spelled: slack-go decodes the hex, so upper or mixed case verifies.
func TestReplayWithRecasedSignatureIsRefused(t *testing.T) {
	e := newEnv(t)
	body := []byte(e.commandForm("UALICE", "C1", "help").Encode())
	h := slackfake.Sign(testSecret, time.Now(), body)
	if code := e.postHeaders(t, "/slack/commands", body, h); code != http.StatusOK {
		t.Fatalf("first request: status %d", code)
	}
	sig := strings.TrimPrefix(h.Get("X-Slack-Signature"), "v0=")
	mixed := []byte(sig)
	for i := range mixed {
		if i%2 == 0 {
			mixed[i] = strings.ToUpper(string(mixed[i]))[0]
		}
	}
	for name, s := range map[string]string{"upper": strings.ToUpper(sig), "mixed": string(mixed)} {
		r := h.Clone()
		r.Set("X-Slack-Signature", "v0="+s)
		if code := e.postHeaders(t, "/slack/commands", body, r); code != http.StatusUnauthorized {
			t.Errorf("%s-case replay: status %d, want 401", name, code)
		}
	}
	waitFor(t, e.fake, e.rec, "the command", func() bool { return len(e.rec.Commands()) >= 1 })
	e.adapter.inflight.Wait()
	if n := len(e.rec.Commands()); n != 1 {
		t.Errorf("engine got %d commands, want 1", n)
	}
}

// The replay memory is the store's: a process that starts on the same
// database still refuses a request the previous one served.
func TestReplayAfterRestartIsRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "day2bot.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.Replay = st })
	body := []byte(e.commandForm("UALICE", "C1", "shop restart-web").Encode())
	h := slackfake.Sign(testSecret, time.Now(), body)
	if code := e.postHeaders(t, "/slack/commands", body, h); code != http.StatusOK {
		t.Fatalf("first request: status %d", code)
	}
	waitFor(t, e.fake, e.rec, "the command", func() bool { return len(e.rec.Commands()) == 1 })
	e.srv.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st2, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	e2 := newEnv(t, func(o *Options) { o.Replay = st2 })
	if code := e2.postHeaders(t, "/slack/interactions", body, h); code != http.StatusUnauthorized {
		t.Errorf("replay on another path after restart: status %d, want 401", code)
	}
	if code := e2.postHeaders(t, "/slack/commands", body, h); code != http.StatusUnauthorized {
		t.Errorf("replay after restart: status %d, want 401", code)
	}
	e2.adapter.inflight.Wait()
	if n := len(e2.rec.Commands()); n != 0 {
		t.Errorf("restarted adapter ran %d replayed commands", n)
	}
}

// A replay memory that fails refuses with 503 rather than letting a
// possible replay through.
func TestReplayMemoryFailureRefuses(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "day2bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close() // every call now fails
	e := newEnv(t, func(o *Options) { o.Replay = st })
	if code := e.post(t, "/slack/commands", []byte(e.commandForm("UALICE", "C1", "help").Encode()), time.Now()); code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", code)
	}
	e.adapter.inflight.Wait()
	if n := len(e.rec.Commands()); n != 0 {
		t.Errorf("engine got %d commands", n)
	}
}
