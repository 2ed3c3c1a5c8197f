package discord

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/sqlite"
)

func TestRefusalOf(t *testing.T) {
	cases := []struct {
		name   string
		guilds []string
		dms    bool
		guild  string
		want   string
	}{
		{"no list: any guild", nil, false, "g9", ""},
		{"listed guild", []string{"g1"}, false, "g1", ""},
		{"foreign guild", []string{"g1"}, false, "g2", `guild "g2" not allowed`},
		{"DM by default", nil, false, "", "direct message"},
		{"DM allowed", []string{"g1"}, true, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &Adapter{cfg: Config{Guilds: c.guilds, DMs: c.dms}}
			if got := a.refusalOf(&discordgo.Interaction{GuildID: c.guild}); got != c.want {
				t.Errorf("refusalOf(%q) = %q, want %q", c.guild, got, c.want)
			}
		})
	}
}

// Interactions from a guild not listed, or DMs, get one private line and
// an audit entry; the engine never sees them.
func TestForeignGuildAndDMRefused(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "day2bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL(), func(c *Config) { c.Guilds = []string{"g1"}; c.Auditor = st })
	var ran atomic.Int32
	e := countingEngine(&ran)
	e.complete = func(_, partial string) []string { ran.Add(1); return []string{partial} }
	h := a.HTTPHandler(e)

	cases := []struct {
		name string
		ix   interaction
		want string
	}{
		{"command from a foreign guild", interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c9", Text: "apps", Guild: "g2"}, notAllowedText},
		{"click from a foreign guild", interaction{Type: discordgo.InteractionMessageComponent, User: "111", Channel: "c9", Message: "m1", Button: "ap:1:approve", Guild: "g2"}, notAllowedText},
		{"command in a DM", interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "d1", Text: "apps", Guild: dmGuild}, noDMsText},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := fake.Interact(h, c.ix)
			if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Flags != discordgo.MessageFlagsEphemeral || resp.Data.Content != c.want {
				t.Errorf("response %+v %+v, want the ephemeral line %q", resp, resp.Data, c.want)
			}
		})
	}
	// Autocomplete from a foreign guild: no suggestions, no audit.
	resp, _ := fake.Interact(h, interaction{Type: discordgo.InteractionApplicationCommandAutocomplete, User: "111", Channel: "c9", Text: "sh", Focused: true, Guild: "g2"})
	if resp.Type != discordgo.InteractionApplicationCommandAutocompleteResult || len(resp.Data.Choices) != 0 {
		t.Errorf("autocomplete %+v, want no choices", resp)
	}
	if n := ran.Load(); n != 0 {
		t.Errorf("engine saw %d refused interactions", n)
	}
	es, err := st.AuditLog(context.Background(), store.AuditFilter{Kind: store.KindRefused})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, en := range es {
		if en.Actor != "discord:111" {
			t.Errorf("audit actor %q", en.Actor)
		}
		details = append(details, en.Detail)
	}
	if len(es) != 3 || strings.Count(strings.Join(details, "\n"), `guild "g2" not allowed`) != 2 || !strings.Contains(details[0], "direct message") {
		t.Errorf("audit details %q, want two foreign-guild refusals and one DM", details)
	}

	// The gateway path refuses the same way, through the callback.
	_, _, body := fake.payload(interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c9", Text: "apps", Guild: "g2"})
	var ev discordgo.InteractionCreate
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	a.onGatewayInteraction(context.Background(), e, ev.Interaction)
	cbs := fake.callsTo(http.MethodPost, "/interactions/"+ev.ID+"/"+ev.Token+"/callback")
	if len(cbs) != 1 || !strings.Contains(string(cbs[0].Body), notAllowedText) || ran.Load() != 0 {
		t.Errorf("gateway: %d callbacks %s, engine %d", len(cbs), fake.describeCalls(), ran.Load())
	}

	// A listed guild is served.
	if resp, _ := fake.Interact(h, interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "apps"}); !strings.Contains(resp.Data.Content, "ran apps") {
		t.Errorf("listed guild: %+v", resp.Data)
	}
}
