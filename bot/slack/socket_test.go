package slack

import (
	"context"
	"slices"
	"strconv"
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

// chooser is the recorder with options for the forms: two buckets.
type chooser struct {
	*recorder
}

func (chooser) ParamChoices(_ context.Context, principal, app, task, param, query string) ([]bot.Choice, error) {
	if principal != "slack:UCAROL" || app != "lab" || task != "revoke-access" || param != "bucket" {
		return nil, bot.ErrNoChoices
	}
	var out []bot.Choice
	for _, b := range []string{"lab-carol-imaging", "lab-carol-trials"} {
		if strings.Contains(b, query) {
			out = append(out, bot.Choice{Value: b})
		}
	}
	return out, nil
}

// CheckForm stands in for the engine's parameter check (bot's own tests
// cover that): a principal must look like an ARN.
func (chooser) CheckForm(app, task string, values map[string]string) map[string]string {
	if app == "lab" && task == "revoke-access" && !strings.HasPrefix(values["principal"], "arn:") {
		return map[string]string{"principal": "principal must be an IAM role or user ARN, got " + strconv.Quote(values["principal"])}
	}
	return nil
}

var _ FormChecker = chooser{}

// TestSocketModeForm opens a form for a command, answers its select's
// block_suggestion on the ack, and hands its view_submission to the
// engine as the command it stands for.
func TestSocketModeForm(t *testing.T) {
	e := newEnv(t)
	e.rec.onCommand = func(ctx context.Context, c bot.Command) {
		if c.Text != "lab revoke-access" {
			return
		}
		err := c.Reply.(bot.FormOpener).OpenForm(ctx, bot.Form{App: "lab", Task: "revoke-access", Title: "lab revoke-access",
			Fields: []bot.FormField{{Name: "bucket", Label: "bucket", Kind: bot.FieldChoice, Required: true}, {Name: "principal", Label: "principal", Kind: bot.FieldText}}})
		if err != nil {
			t.Errorf("open form: %v", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.adapter.RunSocketMode(ctx, chooser{e.rec}) }()
	waitFor(t, e.fake, nil, "the socket mode connection", func() bool { return e.fake.Sockets() == 1 })

	if _, err := e.fake.SendSlashCommand(e.commandForm("UCAROL", "C1", "lab revoke-access")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, e.fake, e.rec, "the form", func() bool { return len(e.fake.Views()) == 1 })
	view := e.fake.Views()[0]

	env, err := e.fake.SendInteraction(slackfake.BlockSuggestion("UCAROL", view, "p:bucket", "bucket", "trials"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e.fake, e.rec, "the options", func() bool { return e.fake.Acked(env) })
	if got := e.fake.AckPayload(env); !strings.Contains(got, `"value":"lab-carol-trials"`) || strings.Contains(got, "imaging") {
		t.Errorf("options on the ack: %s", got)
	}

	// A refused value rides back on the ack and keeps the form open;
	// nothing reaches the engine.
	bad, err := e.fake.SendInteraction(slackfake.ViewSubmission("UCAROL", view, map[string]map[string]any{
		"p:bucket":    {"bucket": map[string]any{"type": "external_select", "selected_option": map[string]any{"value": "lab-carol-trials"}}},
		"p:principal": {"principal": map[string]any{"type": "plain_text_input", "value": "bob"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e.fake, e.rec, "the refused submission's ack", func() bool { return e.fake.Acked(bad) })
	if got := e.fake.AckPayload(bad); got != `{"response_action":"errors","errors":{"p:principal":"principal must be an IAM role or user ARN, got \"bob\""}}` {
		t.Errorf("refused submission acked with %s", got)
	}

	sub, err := e.fake.SendInteraction(slackfake.ViewSubmission("UCAROL", view, map[string]map[string]any{
		"p:bucket":    {"bucket": map[string]any{"type": "external_select", "selected_option": map[string]any{"value": "lab-carol-trials"}}},
		"p:principal": {"principal": map[string]any{"type": "plain_text_input", "value": "arn:aws:iam::123456789012:role/x"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e.fake, e.rec, "the submission", func() bool { return e.fake.Acked(sub) && len(e.rec.Commands()) == 2 })
	// Commands are recorded once handled, concurrently: the submission
	// may come first.
	c := e.rec.Commands()[1]
	if c.Text == "lab revoke-access" {
		c = e.rec.Commands()[0]
	}
	if c.Text != "lab revoke-access bucket=lab-carol-trials principal=arn:aws:iam::123456789012:role/x" || c.Channel != "C1" || c.Principal() != "slack:UCAROL" {
		t.Errorf("submitted command = %+v", c)
	}
	if n := len(e.rec.Commands()); n != 2 {
		t.Errorf("%d commands reached the engine, want 2: the refused submission went through", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunSocketMode after cancel: %v", err)
	}
}

// A slash command Slack delivers again (its ack was lost), here or on
// another replica's connection sharing the replay memory, runs once; both
// envelopes are acked.
func TestSocketModeRedeliveredCommandRunsOnce(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.adapter.RunSocketMode(ctx, e.rec) }()
	waitFor(t, e.fake, nil, "the socket mode connection", func() bool { return e.fake.Sockets() == 1 })
	form := e.commandForm("UALICE", "C1", "shop restart-web")
	var envs []string
	for range 2 {
		env, err := e.fake.SendSlashCommand(form)
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	other := e.commandForm("UALICE", "C1", "apps")
	other.Set("trigger_id", "another-trigger")
	third, err := e.fake.SendSlashCommand(other)
	if err != nil {
		t.Fatal(err)
	}
	// Envelopes are acked in order, after the redelivered one is dropped
	// or dispatched: once the third is acked and its command handled, the
	// second can add nothing more.
	waitFor(t, e.fake, e.rec, "the acks and the next command", func() bool {
		return e.fake.Acked(envs[0]) && e.fake.Acked(envs[1]) && e.fake.Acked(third) && len(e.rec.Commands()) >= 2
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunSocketMode after cancel: %v", err)
	}
	if err := e.adapter.Wait(context.Background()); err != nil { // every acked command handed over
		t.Fatal(err)
	}
	var texts []string
	for _, c := range e.rec.Commands() {
		texts = append(texts, c.Text)
	}
	slices.Sort(texts) // handed to the engine concurrently
	if len(texts) != 2 || texts[0] != "apps" || texts[1] != "shop restart-web" {
		t.Fatalf("commands = %q, want the redelivered one once", texts)
	}
}
