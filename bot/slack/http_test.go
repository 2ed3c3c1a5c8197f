package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/slack/slackfake"
)

func TestCommandsVerification(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBody = 4096 })
	now := time.Now()
	valid := []byte(e.commandForm("UALICE", "C1", "help").Encode())

	// A valid request first: it must be accepted and reach the engine.
	if code := e.post(t, "/slack/commands", valid, now); code != http.StatusOK {
		t.Fatalf("valid request: status %d", code)
	}
	waitFor(t, e.fake, e.rec, "the valid command", func() bool { return len(e.rec.Commands()) == 1 })

	changed := []byte(strings.Replace(string(valid), "text=help", "text=shop+scale+desired%3D50", 1))
	if string(changed) == string(valid) {
		t.Fatal("test bug: field not changed")
	}
	validHeaders := slackfake.Sign(testSecret, now, valid)
	badSig := slackfake.Sign("not-the-secret", now, valid)
	noSig := slackfake.Sign(testSecret, now, valid)
	noSig.Del("X-Slack-Signature")
	oversized := []byte(e.commandForm("UALICE", "C1", strings.Repeat("x", 5000)).Encode())

	cases := []struct {
		name    string
		body    []byte
		headers http.Header
	}{
		{"bad signature", valid, badSig},
		{"stale timestamp", valid, slackfake.Sign(testSecret, now.Add(-6*time.Minute), valid)},
		{"future timestamp", valid, slackfake.Sign(testSecret, now.Add(6*time.Minute), valid)},
		{"replayed body with a changed field", changed, validHeaders},
		{"exact replay", valid, validHeaders},
		{"oversized body", oversized, slackfake.Sign(testSecret, now, oversized)},
		{"missing signature", valid, noSig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if code := e.postHeaders(t, "/slack/commands", c.body, c.headers); code != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", code)
			}
		})
	}
	// Refused requests never reach the engine.
	if n := len(e.rec.Commands()); n != 1 {
		t.Errorf("engine got %d commands, want only the valid one", n)
	}
	got := e.rec.Commands()[0]
	if got.Platform != "slack" || got.User != "UALICE" || got.Principal() != "slack:UALICE" || got.Channel != "C1" || got.Text != "help" || got.Team != "T1" {
		t.Errorf("command = %+v", got)
	}
	if got.UserName != "alice" {
		t.Errorf("display name %q, want alice from users.info", got.UserName)
	}
}

func TestSSLCheckIsAnsweredAndIgnored(t *testing.T) {
	e := newEnv(t)
	body := []byte("ssl_check=1&token=x")
	if code := e.post(t, "/slack/commands", body, time.Now()); code != http.StatusOK {
		t.Fatalf("ssl_check: status %d", code)
	}
	e.adapter.inflight.Wait()
	if n := len(e.rec.Commands()); n != 0 {
		t.Errorf("ssl_check reached the engine as %d command(s)", n)
	}
}

func TestInteractionsVerification(t *testing.T) {
	e := newEnv(t)
	payload, _ := json.Marshal(slackfake.BlockActions("UBOB", "bob", "C1", "1700000000.000001", "approve:a-1", e.fake.ResponseURL()))
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	if code := e.post(t, "/slack/interactions", body, time.Now().Add(-10*time.Minute)); code != http.StatusUnauthorized {
		t.Errorf("stale interaction: status %d, want 401", code)
	}
	if code := e.post(t, "/slack/interactions", body, time.Now()); code != http.StatusOK {
		t.Fatalf("valid interaction: status %d", code)
	}
	waitFor(t, e.fake, e.rec, "the click", func() bool { return len(e.rec.Actions()) == 1 })
	a := e.rec.Actions()[0]
	want := bot.MessageRef{Platform: "slack", Channel: "C1", ID: "1700000000.000001"}
	if a.ButtonID != "approve:a-1" || a.Principal() != "slack:UBOB" || a.Message != want || a.UserName != "bob" {
		t.Errorf("action = %+v", a)
	}
}

func TestCommandDenialIsEphemeralThroughResponseURL(t *testing.T) {
	e := newEnv(t)
	e.rec.onCommand = func(ctx context.Context, c bot.Command) {
		if err := c.Reply.Ephemeral(ctx, bot.Message{Text: "Denied: rule 2 limits desired to 1..10", Tone: bot.ToneDanger}); err != nil {
			t.Errorf("ephemeral: %v", err)
		}
	}
	form := e.commandForm("UALICE", "D123", "shop scale desired=50")
	if code := e.post(t, "/slack/commands", []byte(form.Encode()), time.Now()); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, e.fake, e.rec, "the denial", func() bool { return len(e.fake.Ephemerals()) == 1 })
	eph := e.fake.Ephemerals()[0]
	if eph.Via != "response_url" || eph.URL != form.Get("response_url") || eph.Type != "ephemeral" {
		t.Errorf("denial went %+v, want response_url ephemeral", eph)
	}
	if !strings.Contains(eph.Blocks, "Denied: rule 2") {
		t.Errorf("denial blocks = %s", eph.Blocks)
	}
	if n := len(e.fake.Messages("")); n != 0 {
		t.Errorf("%d public messages for a denial", n)
	}
}

// TestApprovalFlow drives command → approval message with buttons → click
// by the requester (refused) → click by an approver → message updated in
// place with the result, all over signed HTTP and the fake Web API.
func TestApprovalFlow(t *testing.T) {
	e := newEnv(t)
	var requester string
	refc := make(chan bot.MessageRef, 1)
	e.rec.onCommand = func(ctx context.Context, c bot.Command) {
		requester = c.Principal()
		ref, err := c.Reply.Public(ctx, bot.Message{
			Title:   "Approval needed: shop scale",
			Text:    "*" + c.UserName + "* asks to run `scale` with desired=8",
			Buttons: []bot.Button{{ID: "approve:a-1", Label: "Approve", Style: bot.StylePrimary}, {ID: "deny:a-1", Label: "Deny"}},
		})
		if err != nil {
			t.Errorf("public: %v", err)
		}
		refc <- ref
	}
	e.rec.onAction = func(ctx context.Context, a bot.Action) {
		if a.Principal() == requester {
			_ = a.Reply.Ephemeral(ctx, bot.Message{Text: "You cannot approve your own request."})
			return
		}
		if err := e.adapter.Update(ctx, a.Message, bot.Message{
			Title: "shop scale: succeeded", Text: "approved by " + a.UserName,
			Table: &bot.Table{Columns: []string{"resource", "result"}, Rows: [][]string{{"asg/shop-web", "desired 8"}}},
			Tone:  bot.ToneSuccess,
		}); err != nil {
			t.Errorf("update: %v", err)
		}
	}
	if code := e.post(t, "/slack/commands", []byte(e.commandForm("UALICE", "C1", "shop scale desired=8").Encode()), time.Now()); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, e.fake, e.rec, "the approval request", func() bool { return len(e.fake.Messages("C1")) == 1 })
	msg := e.fake.Messages("C1")[0]
	if !strings.Contains(msg.Blocks, `"action_id":"approve:a-1"`) {
		t.Fatalf("approval message has no approve button: %s", msg.Blocks)
	}
	click := func(user, name string) {
		payload, _ := json.Marshal(slackfake.BlockActions(user, name, "C1", msg.TS, "approve:a-1", e.fake.ResponseURL()))
		if code := e.post(t, "/slack/interactions", []byte(url.Values{"payload": {string(payload)}}.Encode()), time.Now()); code != http.StatusOK {
			t.Fatalf("click: status %d", code)
		}
	}
	click("UALICE", "alice")
	waitFor(t, e.fake, e.rec, "the refusal", func() bool { return len(e.fake.Ephemerals()) == 1 })
	if eph := e.fake.Ephemerals()[0]; !strings.Contains(eph.Text, "cannot approve your own") {
		t.Errorf("refusal = %+v", eph)
	}
	if m := e.fake.Messages("C1")[0]; m.Updates != 0 {
		t.Error("requester's click changed the message")
	}
	click("UBOB", "bob")
	waitFor(t, e.fake, e.rec, "the updated message", func() bool { return e.fake.Messages("C1")[0].Updates == 1 })
	m := e.fake.Messages("C1")[0]
	if ref := <-refc; m.TS != ref.ID || !strings.Contains(m.Blocks, "approved by bob") || !strings.Contains(m.Blocks, "desired 8") || strings.Contains(m.Blocks, "approve:a-1") {
		t.Errorf("updated message = %s", m.Blocks)
	}
}

func TestPublicInPrivateChannelExplainsInvite(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, func(o *Options) { o.Metrics = reg })
	e.fake.FailChannel("GPRIV", "channel_not_found")
	errc := make(chan error, 1)
	e.rec.onCommand = func(ctx context.Context, c bot.Command) {
		_, err := c.Reply.Public(ctx, bot.Message{Text: "run r-1 queued"})
		errc <- err
	}
	if code := e.post(t, "/slack/commands", []byte(e.commandForm("UALICE", "GPRIV", "shop restart-web").Encode()), time.Now()); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if err := <-errc; err == nil || !notInChannel(err) {
		t.Errorf("public error = %v, want channel_not_found", err)
	}
	waitFor(t, e.fake, e.rec, "the invite hint", func() bool { return len(e.fake.Ephemerals()) == 1 })
	if eph := e.fake.Ephemerals()[0]; eph.Via != "response_url" || !strings.Contains(eph.Blocks, "/invite @day2bot") {
		t.Errorf("hint = %+v", eph)
	}
	e.adapter.inflight.Wait()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := m.GetCounter().GetValue()
			if h := m.GetHistogram(); h != nil {
				v = float64(h.GetSampleCount())
			}
			got[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = fmt.Sprint(v)
		}
	}
	for k, want := range map[string]string{
		"day2bot_slack_api_errors_total{error=channel_not_found,method=chat.postMessage}": "1",
		"day2bot_slack_ack_seconds{kind=command,transport=http}":                          "1",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %s (all: %v)", k, got[k], want, got)
		}
	}
}

func TestResponseURLBudgetFallsBackToPostEphemeral(t *testing.T) {
	e := newEnv(t)
	e.rec.onCommand = func(ctx context.Context, c bot.Command) {
		for i := range 7 {
			if err := c.Reply.Ephemeral(ctx, bot.Message{Text: "reply " + string(rune('0'+i))}); err != nil {
				t.Errorf("ephemeral %d: %v", i, err)
			}
		}
	}
	if code := e.post(t, "/slack/commands", []byte(e.commandForm("UALICE", "C1", "history").Encode()), time.Now()); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, e.fake, e.rec, "seven replies", func() bool { return len(e.fake.Ephemerals()) == 7 })
	for i, eph := range e.fake.Ephemerals() {
		want := "response_url"
		if i >= responseURLUses {
			want = "chat.postEphemeral"
		}
		if eph.Via != want {
			t.Errorf("reply %d via %s, want %s", i, eph.Via, want)
		}
		if i >= responseURLUses && (eph.User != "UALICE" || eph.Channel != "C1") {
			t.Errorf("reply %d to %s in %s", i, eph.User, eph.Channel)
		}
	}
}

func TestResponseURLExpiresAfterThirtyMinutes(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	e := newEnv(t, func(o *Options) { o.Clock = func() time.Time { return clock() } })
	r := e.adapter.newResponder(e.fake.ResponseURL(), "C1", "UALICE", now)
	clock = func() time.Time { return now.Add(31 * time.Minute) }
	if err := r.Ephemeral(context.Background(), bot.Message{Text: "late"}); err != nil {
		t.Fatal(err)
	}
	if eph := e.fake.Ephemerals(); len(eph) != 1 || eph[0].Via != "chat.postEphemeral" {
		t.Errorf("ephemerals = %+v, want one via chat.postEphemeral", eph)
	}
}

func TestUserNamesAreCached(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		body := []byte(e.commandForm("UBOB", "C1", "apps "+string(rune('a'+i))).Encode())
		if code := e.post(t, "/slack/commands", body, time.Now()); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		waitFor(t, e.fake, e.rec, "the command", func() bool { return len(e.rec.Commands()) == i+1 })
	}
	if n := e.fake.CallCount("users.info"); n != 1 {
		t.Errorf("users.info called %d times, want 1", n)
	}
	for _, c := range e.rec.Commands() {
		if c.UserName != "bob" {
			t.Errorf("name %q", c.UserName)
		}
	}
}

func FuzzCommandsHandler(f *testing.F) {
	f.Add("token=x&user_id=U1&channel_id=C1&text=help")
	f.Add("payload=%7B%22type%22%3A%22block_actions%22%7D")
	f.Add("%%%")
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		a, err := New(Options{BotToken: testToken, SigningSecret: testSecret, APIURL: "http://127.0.0.1:1/api/"})
		if err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		for _, h := range []http.Handler{a.CommandsHandler(rec), a.InteractionsHandler(rec)} {
			req, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header = slackfake.Sign(testSecret, time.Now(), []byte(body))
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req)
			if w.code != http.StatusOK && w.code != http.StatusBadRequest && w.code != http.StatusUnauthorized {
				t.Fatalf("status %d", w.code)
			}
		}
		a.inflight.Wait()
	})
}

type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(b), nil
}
func (w *discardWriter) WriteHeader(code int) { w.code = code }
