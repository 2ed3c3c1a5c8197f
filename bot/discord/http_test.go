package discord

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/clocktest"
)

// endpoint is the adapter's HTTP handler for engine e.
func endpoint(_ *testing.T, a *Adapter, e Engine) http.Handler { return a.HTTPHandler(e) }

func TestHTTPVerification(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	h := endpoint(t, a, echoEngine{})
	ping := []byte(`{"id":"1","application_id":"app1","type":1,"token":"t","version":1}`)

	t.Run("valid PING gets PONG", func(t *testing.T) {
		status, resp := fake.post(h, signedHeader(testKey, testNow, ping), ping)
		if status != http.StatusOK || resp.Type != discordgo.InteractionResponsePong {
			t.Fatalf("got %d %+v, want 200 PONG", status, resp)
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		other := append([]byte(nil), ping...)
		other[len(other)-2] = '2'
		status, _ := fake.post(h, signedHeader(testKey, testNow, ping), other)
		if status != http.StatusUnauthorized {
			t.Fatalf("got %d, want 401", status)
		}
	})
	t.Run("stale timestamp", func(t *testing.T) {
		status, _ := fake.post(h, signedHeader(testKey, testNow.Add(-10*time.Minute), ping), ping)
		if status != http.StatusUnauthorized {
			t.Fatalf("got %d, want 401", status)
		}
	})
	t.Run("unsigned", func(t *testing.T) {
		status, _ := fake.post(h, http.Header{}, ping)
		if status != http.StatusUnauthorized {
			t.Fatalf("got %d, want 401", status)
		}
	})
	t.Run("body over the limit", func(t *testing.T) {
		big := bytes.Repeat([]byte("x"), maxBodyBytes+1)
		status, _ := fake.post(h, signedHeader(testKey, testNow, big), big)
		if status != http.StatusRequestEntityTooLarge {
			t.Fatalf("got %d, want 413", status)
		}
	})
	t.Run("signed garbage", func(t *testing.T) {
		junk := []byte(`{"type":"x"`)
		status, _ := fake.post(h, signedHeader(testKey, testNow, junk), junk)
		if status != http.StatusBadRequest {
			t.Fatalf("got %d, want 400", status)
		}
	})
	t.Run("GET", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/discord/interactions", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("got %d, want 405", rec.Code)
		}
	})
	if n := len(fake.callsTo("", "")); n != 0 {
		t.Errorf("refused requests reached Discord's API %d times", n)
	}
}

func TestCommandEphemeralAnswer(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	got := make(chan bot.Command, 1)
	e := &scriptedEngine{command: func(ctx context.Context, cmd bot.Command) {
		got <- cmd
		_ = cmd.Reply.Ephemeral(ctx, bot.Message{Text: "You may not run *scale*."})
	}}
	resp, _ := fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "  shop scale desired=40 "})
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Flags != discordgo.MessageFlagsEphemeral {
		t.Fatalf("response type %d flags %d, want 4 with flags 64", resp.Type, resp.Data.Flags)
	}
	if resp.Data.Content != "You may not run **scale**." {
		t.Errorf("content %q", resp.Data.Content)
	}
	cmd := <-got
	if cmd.Principal() != "discord:111" || cmd.Text != "shop scale desired=40" || cmd.Channel != "c1" || cmd.Team != "g1" || cmd.UserName != "user111" {
		t.Errorf("command %+v", cmd)
	}
	if n := len(fake.callsTo("", "")); n != 0 {
		t.Errorf("an inline answer made %d REST calls", n)
	}
}

func TestCommandPublicAnswerIsUpdatable(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	refs := make(chan bot.MessageRef, 1)
	e := &scriptedEngine{command: func(ctx context.Context, cmd bot.Command) {
		ref, err := cmd.Reply.Public(ctx, bot.Message{Title: "Running", Text: "restart-web"})
		if err != nil {
			t.Errorf("Public: %v", err)
		}
		refs <- ref
	}}
	resp, token := fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "shop restart-web"})
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Flags != 0 {
		t.Fatalf("response type %d flags %d, want public 4", resp.Type, resp.Data.Flags)
	}
	ref := <-refs
	orig := fake.message(ref.ID)
	if orig == nil || orig.Token != token || ref.Channel != "c1" || ref.Platform != "discord" {
		t.Fatalf("ref %+v does not name the interaction's message", ref)
	}
	// Within 15 minutes the update goes through the interaction webhook.
	if err := a.Update(context.Background(), ref, bot.Message{Title: "Done", Tone: bot.ToneSuccess}); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.callsTo(http.MethodPatch, "/webhooks/app1/"+token+"/messages/@original")); n != 1 {
		t.Errorf("%d webhook edits, want 1: %s", n, fake.describeCalls())
	}
	if m := fake.message(ref.ID); m.Msg.Embeds[0].Title != "Done" {
		t.Errorf("message not updated: %+v", m.Msg.Embeds[0])
	}
}

func TestCommandSlowEngineIsDeferred(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL(), func(c *Config) { c.AckTimeout = time.Millisecond })
	release := make(chan struct{})
	e := &scriptedEngine{command: func(ctx context.Context, cmd bot.Command) {
		<-release
		_ = cmd.Reply.Ephemeral(ctx, bot.Message{Text: "queued run r-1"})
		_ = cmd.Reply.Ephemeral(ctx, bot.Message{Text: "run r-1 done"})
	}}
	resp, token := fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "shop restart-web"})
	close(release)
	if resp.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource || resp.Data == nil || resp.Data.Flags != discordgo.MessageFlagsEphemeral {
		t.Fatalf("response %+v, want ephemeral type 5", resp)
	}
	fake.waitFor("the follow-up", func() bool { return len(fake.callsTo(http.MethodPost, "/webhooks/app1/"+token)) == 1 })
	edits := fake.callsTo(http.MethodPatch, "/webhooks/app1/"+token+"/messages/@original")
	if len(edits) != 1 || !strings.Contains(string(edits[0].Body), "queued run r-1") {
		t.Fatalf("first late answer should replace the placeholder: %s", fake.describeCalls())
	}
	follow := fake.callsTo(http.MethodPost, "/webhooks/app1/"+token)
	if !strings.Contains(string(follow[0].Body), `"flags":64`) || !strings.Contains(string(follow[0].Body), "run r-1 done") {
		t.Errorf("second answer should be an ephemeral follow-up: %s", follow[0].Body)
	}
}

func TestAutocomplete(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	var asked string
	e := &scriptedEngine{complete: func(principal, partial string) []string {
		asked = principal + " " + partial
		var out []string
		for i := range 40 {
			out = append(out, partial+strings.Repeat("x", i))
		}
		return append(out, strings.Repeat("y", 101))
	}}
	resp, _ := fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionApplicationCommandAutocomplete, User: "111", Channel: "c1", Text: "shop re", Focused: true})
	if resp.Type != discordgo.InteractionApplicationCommandAutocompleteResult {
		t.Fatalf("type %d, want 8", resp.Type)
	}
	if asked != "discord:111 shop re" {
		t.Errorf("engine asked with %q", asked)
	}
	if len(resp.Data.Choices) != maxChoices || resp.Data.Choices[0].Value != "shop re" {
		t.Errorf("%d choices, first %+v", len(resp.Data.Choices), resp.Data.Choices[0])
	}
	// The trailing space is what asks for the next word.
	if _, _ = fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionApplicationCommandAutocomplete, User: "111", Channel: "c1", Text: "  shop restart-web ", Focused: true}); asked != "discord:111 shop restart-web " {
		t.Errorf("engine asked with %q, want the trailing space kept", asked)
	}
}

func TestClickUpdateBecomesTheResponse(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	ref, err := a.Post(context.Background(), "c1", bot.Message{Title: "Approve?", Buttons: []bot.Button{{ID: "ap:1:approve", Label: "Approve"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan bot.Action, 1)
	e := &scriptedEngine{action: func(ctx context.Context, act bot.Action) {
		got <- act
		if err := a.Update(ctx, act.Message, bot.Message{Title: "Approved by <@222>"}); err != nil {
			t.Errorf("Update: %v", err)
		}
	}}
	resp, _ := fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionMessageComponent, User: "222", Channel: "c1", Message: ref.ID, Button: "ap:1:approve"})
	if resp.Type != discordgo.InteractionResponseUpdateMessage {
		t.Fatalf("type %d, want 7 UPDATE_MESSAGE", resp.Type)
	}
	act := <-got
	if act.Principal() != "discord:222" || act.ButtonID != "ap:1:approve" || act.Message != ref {
		t.Errorf("action %+v", act)
	}
	m := fake.message(ref.ID)
	if m.Msg.Embeds[0].Title != "Approved by <@222>" || len(m.Msg.Components) != 0 {
		t.Errorf("message after click: %+v", m.Msg)
	}
	if n := len(fake.callsTo(http.MethodPatch, "")); n != 0 {
		t.Errorf("the update also went out as %d edits", n)
	}
}

func TestClickRefusedIsEphemeral(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	resp, _ := fake.Interact(endpoint(t, a, echoEngine{}), interaction{Type: discordgo.InteractionMessageComponent, User: "111", Channel: "c1", Message: "m9", Button: "ap:1:approve"})
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Flags != discordgo.MessageFlagsEphemeral {
		t.Fatalf("response %d flags %d, want ephemeral 4", resp.Type, resp.Data.Flags)
	}
}

func TestClickSlowEngineDefersThenEditsThroughWebhook(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL(), func(c *Config) { c.AckTimeout = time.Millisecond })
	ref, err := a.Post(context.Background(), "c1", bot.Message{Title: "Approve?", Buttons: []bot.Button{{ID: "b", Label: "Approve"}}})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	done := make(chan error, 1)
	e := &scriptedEngine{action: func(ctx context.Context, act bot.Action) {
		<-release
		done <- a.Update(ctx, act.Message, bot.Message{Title: "Done"})
	}}
	resp, token := fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionMessageComponent, User: "222", Channel: "c1", Message: ref.ID, Button: "b"})
	close(release)
	if resp.Type != discordgo.InteractionResponseDeferredMessageUpdate {
		t.Fatalf("type %d, want 6", resp.Type)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(fake.callsTo(http.MethodPatch, "/webhooks/app1/"+token+"/messages/@original")); n != 1 {
		t.Errorf("want the late update through the click's webhook: %s", fake.describeCalls())
	}
	if fake.message(ref.ID).Msg.Embeds[0].Title != "Done" {
		t.Error("message not updated")
	}
}

func TestLatePublicAnswerReplacesEphemeralPlaceholder(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL(), func(c *Config) { c.AckTimeout = time.Millisecond })
	release := make(chan struct{})
	refs := make(chan bot.MessageRef, 1)
	e := &scriptedEngine{command: func(ctx context.Context, cmd bot.Command) {
		<-release
		ref, err := cmd.Reply.Public(ctx, bot.Message{Title: "Approval needed"})
		if err != nil {
			t.Errorf("Public: %v", err)
		}
		refs <- ref
	}}
	_, token := fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "shop scale"})
	close(release)
	ref := <-refs
	fake.waitFor("the placeholder deleted", func() bool {
		return len(fake.callsTo(http.MethodDelete, "/webhooks/app1/"+token+"/messages/@original")) == 1
	})
	follow := fake.callsTo(http.MethodPost, "/webhooks/app1/"+token)
	if len(follow) != 1 || strings.Contains(string(follow[0].Body), `"flags"`) {
		t.Fatalf("want one public follow-up: %s", fake.describeCalls())
	}
	if m := fake.message(ref.ID); m == nil || m.Ephemeral || ref.Channel != "c1" {
		t.Errorf("ref %+v, message %+v", ref, m)
	}
}

func TestAnswersAfterTokenExpiry(t *testing.T) {
	fake := newFakeDiscord(t)
	clock := clocktest.New(testNow)
	a := newTestAdapter(t, fake.APIURL(), func(c *Config) { c.Now = clock.Now })
	type result struct {
		ref    bot.MessageRef
		ephErr error
	}
	resume := make(chan struct{})
	done := make(chan result, 1)
	e := &scriptedEngine{command: func(ctx context.Context, cmd bot.Command) {
		_ = cmd.Reply.Ephemeral(ctx, bot.Message{Text: "queued run r-9"})
		<-resume
		var res result
		res.ephErr = cmd.Reply.Ephemeral(ctx, bot.Message{Text: "too late to whisper"})
		res.ref, _ = cmd.Reply.Public(ctx, bot.Message{Title: "run r-9 done"})
		done <- res
	}}
	fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "shop restart-web"})
	clock.Advance(20 * time.Minute)
	close(resume)
	res := <-done
	if res.ephErr == nil {
		t.Error("an ephemeral answer after 15 minutes reported success")
	}
	if len(fake.callsTo(http.MethodPost, "/channels/c1/messages")) != 1 || fake.message(res.ref.ID) == nil {
		t.Errorf("late public answer not posted with the bot token: %s", fake.describeCalls())
	}
	if n := len(fake.callsTo(http.MethodPost, "/webhooks/")); n != 0 {
		t.Errorf("%d webhook calls with an expired token", n)
	}
}

func TestInteractionWithoutUserIsRefused(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	e := &scriptedEngine{command: func(context.Context, bot.Command) { t.Error("engine called without a user") }}
	body := []byte(`{"id":"5","application_id":"app1","type":2,"token":"t5","version":1,"channel_id":"c1","data":{"name":"day2","options":[{"name":"command","type":3,"value":"help"}]}}`)
	status, resp := fake.post(endpoint(t, a, e), signedHeader(testKey, testNow, body), body)
	if status != http.StatusOK || resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Flags != discordgo.MessageFlagsEphemeral {
		t.Fatalf("got %d %+v, want an ephemeral refusal", status, resp)
	}
}

// BenchmarkSignedCommandEphemeral: verify, parse, hand to the engine and
// answer inline — what a denial costs before Discord sees the answer.
func BenchmarkSignedCommandEphemeral(b *testing.B) {
	a := newTestAdapter(b, "http://127.0.0.1:1/api/v10", func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
	h := a.HTTPHandler(echoEngine{})
	body := []byte(`{"id":"1","application_id":"app1","type":2,"token":"t","version":1,"channel_id":"c1","member":{"user":{"id":"111"}},"data":{"name":"day2","options":[{"name":"command","type":3,"value":"shop scale desired=40"}]}}`)
	hdr := signedHeader(testKey, testNow, body)
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/discord/interactions", bytes.NewReader(body))
		req.Header = hdr.Clone()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

// A first answer with a file cannot be a JSON response: it is deferred
// with the answer's visibility and the message, file included, put in
// place through the webhook.
func TestFirstAnswerWithFileIsDeferredThenEdited(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	done := make(chan error, 1)
	e := &scriptedEngine{command: func(ctx context.Context, cmd bot.Command) {
		done <- cmd.Reply.Ephemeral(ctx, bot.Message{Title: "history", Table: longTable(400)})
	}}
	resp, token := fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "history shop"})
	if resp.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource || resp.Data == nil || resp.Data.Flags != discordgo.MessageFlagsEphemeral {
		t.Fatalf("response %d %s, want ephemeral type 5", resp.Type, resp.RawData)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	id := fake.original[token]
	fake.mu.Unlock()
	m := fake.message(id)
	if m == nil || len(m.Files) != 1 || !strings.HasPrefix(m.Files[0], "table.txt:") || len(m.Msg.Embeds) < 2 {
		t.Fatalf("original after edit: %+v", m)
	}
}
