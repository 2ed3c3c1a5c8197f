package discord

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/bot"
)

// The websocket itself needs real Discord; what the gateway hands us is
// an INTERACTION_CREATE event, answered through the callback endpoint.
func TestGatewayInteractionAnsweredOnce(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	runs := 0
	e := &scriptedEngine{command: func(ctx context.Context, cmd bot.Command) {
		runs++
		_ = cmd.Reply.Ephemeral(ctx, bot.Message{Text: "denied"})
	}}
	_, _, body := fake.payload(interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "shop scale"})
	var ev discordgo.InteractionCreate
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	for range 2 { // a resumed gateway may deliver the event again
		a.onGatewayInteraction(context.Background(), e, ev.Interaction)
	}
	cbs := fake.callsTo(http.MethodPost, "/interactions/"+ev.ID+"/"+ev.Token+"/callback")
	if len(cbs) != 1 || runs != 1 {
		t.Fatalf("%d callbacks, %d runs; want 1 each", len(cbs), runs)
	}
	var resp discordgo.InteractionResponse
	if err := json.Unmarshal(cbs[0].Body, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Flags != discordgo.MessageFlagsEphemeral {
		t.Errorf("callback %s", cbs[0].Body)
	}
}

func TestGatewayPublicAnswerFindsItsMessage(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	refs := make(chan bot.MessageRef, 1)
	e := &scriptedEngine{command: func(ctx context.Context, cmd bot.Command) {
		ref, err := cmd.Reply.Public(ctx, bot.Message{Title: "Approval needed", Buttons: []bot.Button{{ID: "ap", Label: "Approve"}}})
		if err != nil {
			t.Errorf("Public: %v", err)
		}
		refs <- ref
	}}
	_, _, body := fake.payload(interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "shop scale"})
	var ev discordgo.InteractionCreate
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	a.onGatewayInteraction(context.Background(), e, ev.Interaction)
	ref := <-refs
	m := fake.message(ref.ID)
	if m == nil || len(m.Msg.Components) != 1 {
		t.Fatalf("ref %+v does not point at the approval message", ref)
	}
}

func TestDedupeBounded(t *testing.T) {
	d := newDedupe(3, 100)
	for _, id := range []string{"a", "b", "c", "d"} {
		if !d.first(id, testNow) {
			t.Fatalf("%s seen before", id)
		}
	}
	if d.first("d", testNow) {
		t.Error("d accepted twice")
	}
	if len(d.seen) > 3 {
		t.Errorf("%d ids kept, max 3", len(d.seen))
	}
	if !d.first("a", testNow) {
		t.Error("evicted id a not accepted again")
	}
}
