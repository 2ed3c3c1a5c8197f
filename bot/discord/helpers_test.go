package discord

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/clocktest"
)

// sleeps records the waits the adapter asked for instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) All() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

type testAdapterOption func(*Config)

func newTestAdapter(tb testing.TB, apiURL string, opts ...testAdapterOption) *Adapter {
	tb.Helper()
	clock := clocktest.New(testNow)
	cfg := Config{
		AppID:      "app1",
		BotToken:   "bot-token",
		PublicKey:  testKey.Public().(ed25519.PublicKey),
		APIURL:     apiURL,
		AckTimeout: 2 * time.Second,
		Logger:     slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:        clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// echoEngine answers every command and click at once, ephemerally, as
// the engine does for refusals.
type echoEngine struct{}

func (echoEngine) HandleCommand(ctx context.Context, cmd bot.Command) {
	_ = cmd.Reply.Ephemeral(ctx, bot.Message{Text: "you said: " + cmd.Text})
}

func (echoEngine) HandleAction(ctx context.Context, a bot.Action) {
	_ = a.Reply.Ephemeral(ctx, bot.Message{Text: "pressed " + a.ButtonID})
}

func (echoEngine) Complete(_ context.Context, _, partial string) []string {
	return []string{partial + "a", partial + "b"}
}

// scriptedEngine lets a test decide what the engine does.
type scriptedEngine struct {
	command  func(ctx context.Context, cmd bot.Command)
	action   func(ctx context.Context, a bot.Action)
	complete func(principal, partial string) []string
}

func (e *scriptedEngine) HandleCommand(ctx context.Context, cmd bot.Command) { e.command(ctx, cmd) }
func (e *scriptedEngine) HandleAction(ctx context.Context, a bot.Action)     { e.action(ctx, a) }
func (e *scriptedEngine) Complete(_ context.Context, principal, partial string) []string {
	return e.complete(principal, partial)
}

// testWriter sends log lines to the test's output, shown on failure.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
