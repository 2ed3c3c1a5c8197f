package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/slack/slackfake"
)

// TestSocketModeRoundTrip connects through apps.connections.open to the
// fake's websocket, receives a slash_commands envelope, acks it, answers
// through the response_url, then does the same for a button click.
func TestSocketModeRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.rec.onCommand = func(ctx context.Context, c bot.Command) {
		if _, err := c.Reply.Public(ctx, bot.Message{Title: "Approval needed", Buttons: []bot.Button{{ID: "approve:a-9", Label: "Approve"}}}); err != nil {
			t.Errorf("public: %v", err)
		}
		_ = c.Reply.Ephemeral(ctx, bot.Message{Text: "asked the approvers"})
	}
	e.rec.onAction = func(ctx context.Context, a bot.Action) {
		_ = a.Reply.Ephemeral(ctx, bot.Message{Text: "recorded your approval"})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.adapter.RunSocketMode(ctx, e.rec) }()
	waitFor(t, e.fake, nil, "the socket mode connection", func() bool { return e.fake.Sockets() == 1 })

	form := e.commandForm("UALICE", "C1", "shop restart-web")
	env, err := e.fake.SendSlashCommand(form)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e.fake, e.rec, "the ack and the answers", func() bool {
		return e.fake.Acked(env) && len(e.fake.Ephemerals()) == 1 && len(e.fake.Messages("C1")) == 1 && len(e.rec.Commands()) == 1
	})
	c := e.rec.Commands()[0]
	if c.Principal() != "slack:UALICE" || c.Text != "shop restart-web" || c.UserName != "alice" {
		t.Errorf("command = %+v", c)
	}
	if eph := e.fake.Ephemerals()[0]; eph.Via != "response_url" || eph.URL != form.Get("response_url") {
		t.Errorf("answer = %+v", eph)
	}

	msg := e.fake.Messages("C1")[0]
	click, err := e.fake.SendInteraction(slackfake.BlockActions("UBOB", "bob", "C1", msg.TS, "approve:a-9", e.fake.ResponseURL()))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e.fake, e.rec, "the click", func() bool { return e.fake.Acked(click) && len(e.fake.Ephemerals()) == 2 && len(e.rec.Actions()) == 1 })
	a := e.rec.Actions()[0]
	if a.ButtonID != "approve:a-9" || a.Principal() != "slack:UBOB" || a.Message.ID != msg.TS {
		t.Errorf("action = %+v", a)
	}
	if !strings.Contains(e.fake.Ephemerals()[1].Text, "recorded") {
		t.Errorf("click answer = %+v", e.fake.Ephemerals()[1])
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunSocketMode after cancel: %v", err)
	}
}

func TestSocketModeNeedsAppToken(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AppToken = "" })
	if err := e.adapter.RunSocketMode(context.Background(), e.rec); err == nil {
		t.Error("socket mode ran without an app token")
	}
}
