package discord

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/clocktest"
)

func TestPostAndUpdateWithBotToken(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	ctx := context.Background()
	ref, err := a.Post(ctx, "c1", bot.Message{Title: "Alert", Text: "CPU high @everyone", Buttons: []bot.Button{{ID: "x", Label: "Scale"}},
		Mentions: []string{"discord:123456789"}})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Platform != "discord" || ref.Channel != "c1" || ref.ID == "" {
		t.Fatalf("ref %+v", ref)
	}
	posts := fake.callsTo(http.MethodPost, "/channels/c1/messages")
	if len(posts) != 1 || posts[0].Auth != "Bot bot-token" {
		t.Fatalf("posts %+v", posts)
	}
	// Only the mentioned user is pinged: the @everyone in the text is not.
	wantAllowed := `"allowed_mentions":{"parse":[],"users":["123456789"],"replied_user":false}`
	if !strings.Contains(string(posts[0].Body), wantAllowed) || !strings.Contains(string(posts[0].Body), `"content":"\u003c@123456789\u003e"`) {
		t.Errorf("post body %s lacks %s and the mention", posts[0].Body, wantAllowed)
	}
	if err := a.Update(ctx, ref, bot.Message{Text: "resolved"}); err != nil {
		t.Fatal(err)
	}
	edits := fake.callsTo(http.MethodPatch, "/channels/c1/messages/"+ref.ID)
	if len(edits) != 1 {
		t.Fatalf("edits: %s", fake.describeCalls())
	}
	if !strings.Contains(string(edits[0].Body), `"allowed_mentions":{"parse":[]`) {
		t.Errorf("the edit may ping: %s", edits[0].Body)
	}
	m := fake.message(ref.ID)
	if m.Msg.Content != "resolved" || len(m.Msg.Embeds) != 0 || len(m.Msg.Components) != 0 {
		t.Errorf("edit must replace embeds and buttons: %+v", m.Msg)
	}
}

func TestPostLongTableUploadsFile(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	ref, err := a.Post(context.Background(), "c1", bot.Message{Title: "done", Table: longTable(400)})
	if err != nil {
		t.Fatal(err)
	}
	m := fake.message(ref.ID)
	if len(m.Files) != 1 || !strings.HasPrefix(m.Files[0], "table.txt:") || len(m.Msg.Embeds) < 2 {
		t.Errorf("files %v, %d embeds", m.Files, len(m.Msg.Embeds))
	}
}

func TestRateLimitedCallIsRetried(t *testing.T) {
	fake := newFakeDiscord(t)
	waits := &sleeps{}
	a := newTestAdapter(t, fake.APIURL(), func(c *Config) { c.Sleep = waits.Sleep })
	fake.limitNext(http.MethodPost, "/channels/c1/messages", 1.5)
	ref, err := a.Post(context.Background(), "c1", bot.Message{Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(fake.callsTo(http.MethodPost, "/channels/c1/messages")); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
	if got := waits.All(); !reflect.DeepEqual(got, []time.Duration{1500 * time.Millisecond}) {
		t.Errorf("waited %v, want retry_after 1.5s", got)
	}
	if fake.message(ref.ID).Msg.Content != "hello" {
		t.Error("message not posted")
	}
}

// Discord's rate-limit headers reach discordgo's bucket through the
// rewriting transport: the next call in that bucket would wait for the
// reset instead of being sent into a 429.
func TestRateLimitHeadersAreHonoured(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	fake.bucket("/channels/c1/messages", "0", "30")
	if _, err := a.Post(context.Background(), "c1", bot.Message{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	rl := a.rest.Ratelimiter
	b := rl.GetBucket(discordgo.EndpointChannelMessages("c1"))
	if wait := rl.GetWaitTime(b, 1); wait < 25*time.Second || wait > 30*time.Second {
		t.Errorf("next call in the bucket would wait %v, want about 30s", wait)
	}
	if other := rl.GetWaitTime(rl.GetBucket(discordgo.EndpointChannelMessages("c2")), 1); other != 0 {
		t.Errorf("another channel's bucket waits %v", other)
	}
}

func TestRateLimitRetriesAreBounded(t *testing.T) {
	fake := newFakeDiscord(t)
	waits := &sleeps{}
	a := newTestAdapter(t, fake.APIURL(), func(c *Config) { c.Sleep = waits.Sleep })
	calls := 0
	err := a.do(context.Background(), "test call", func(opts ...discordgo.RequestOption) error {
		calls++
		return &discordgo.RateLimitError{RateLimit: &discordgo.RateLimit{TooManyRequests: &discordgo.TooManyRequests{RetryAfter: time.Second}}}
	})
	if err == nil || calls != maxRateLimitRetries+1 || len(waits.All()) != maxRateLimitRetries {
		t.Fatalf("err %v after %d calls and waits %v", err, calls, waits.All())
	}
}

func TestUpdateAfterTokenExpiryUsesBotToken(t *testing.T) {
	fake := newFakeDiscord(t)
	clock := clocktest.New(testNow)
	a := newTestAdapter(t, fake.APIURL(), func(c *Config) { c.Now = clock.Now })
	refs := make(chan bot.MessageRef, 1)
	e := &scriptedEngine{command: func(ctx context.Context, cmd bot.Command) {
		ref, _ := cmd.Reply.Public(ctx, bot.Message{Title: "Approval needed"})
		refs <- ref
	}}
	fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "shop scale"})
	ref := <-refs
	clock.Advance(16 * time.Minute)
	if err := a.Update(context.Background(), ref, bot.Message{Title: "Expired"}); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.callsTo(http.MethodPatch, "/channels/c1/messages/"+ref.ID)); n != 1 {
		t.Errorf("want a channel edit with the bot token: %s", fake.describeCalls())
	}
	if n := len(fake.callsTo(http.MethodPatch, "/webhooks/")); n != 0 {
		t.Errorf("used an expired interaction token")
	}
}

func TestRegister(t *testing.T) {
	for _, tc := range []struct{ guild, path string }{
		{"g1", "/applications/app1/guilds/g1/commands"},
		{"", "/applications/app1/commands"},
	} {
		fake := newFakeDiscord(t)
		a := newTestAdapter(t, fake.APIURL(), func(c *Config) { c.GuildID = tc.guild })
		for range 2 { // idempotent: a restart overwrites with the same
			if err := a.Register(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		puts := fake.callsTo(http.MethodPut, tc.path)
		if len(puts) != 2 {
			t.Fatalf("guild %q: %s", tc.guild, fake.describeCalls())
		}
		var cmds []*discordgo.ApplicationCommand
		if err := json.Unmarshal(puts[1].Body, &cmds); err != nil {
			t.Fatal(err)
		}
		if len(cmds) != 1 || cmds[0].Name != "day2" || len(cmds[0].Options) != 1 ||
			cmds[0].Options[0].Name != "command" || !cmds[0].Options[0].Autocomplete ||
			cmds[0].Options[0].Type != discordgo.ApplicationCommandOptionString {
			t.Errorf("registered %s", puts[1].Body)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(Config{AppID: "a"}); err == nil {
		t.Error("accepted a config without a bot token")
	}
	if _, err := New(Config{AppID: "a", BotToken: "t", APIURL: "not a url"}); err == nil {
		t.Error("accepted a relative DISCORD_API_URL")
	}
}
