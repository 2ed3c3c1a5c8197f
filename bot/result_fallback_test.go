package bot_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
)

// noPublic is a Responder whose public answers fail (a response_url that
// expired, a webhook that is down); private answers are kept.
type noPublic struct {
	mu   sync.Mutex
	priv []bot.Message
}

func (r *noPublic) Ephemeral(_ context.Context, m bot.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.priv = append(r.priv, m)
	return nil
}

func (r *noPublic) Public(context.Context, bot.Message) (bot.MessageRef, error) {
	return bot.MessageRef{}, errors.New("response_url expired")
}

// When the run's "queued" message could not be posted, its result is still
// posted in the channel the command came from: every run ends with a
// message.
func TestRunResultPostedWhenQueuedMessageFailed(t *testing.T) {
	h := newHarness(t)
	mark := h.Out.Len()
	h.Engine.HandleCommand(h.Ctx, bot.Command{Platform: "shell", User: "alice", UserName: "alice", Channel: "ops",
		Text: "shop restart-web", Reply: &noPublic{}})
	h.Drain()
	if n := h.restart.runs.Load(); n != 1 {
		t.Fatalf("restart-web ran %d times, want 1", n)
	}
	enginetest.MustContain(t, h.Out.Since(mark), "shop restart-web — succeeded")
}
