package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

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

// fakeGateway speaks just enough of the gateway protocol: HELLO, read
// IDENTIFY, READY, then the dispatch events the test sends.
type fakeGateway struct {
	srv    *httptest.Server
	events chan any
	ident  chan []byte
}

func newFakeGateway(t *testing.T) *fakeGateway {
	g := &fakeGateway{events: make(chan any, 8), ident: make(chan []byte, 1)}
	up := websocket.Upgrader{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("fake gateway upgrade: %v", err)
			return
		}
		defer conn.Close()
		if err := conn.WriteJSON(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": 45000}}); err != nil {
			return
		}
		_, identify, err := conn.ReadMessage()
		if err != nil {
			return
		}
		g.ident <- identify
		if err := conn.WriteJSON(map[string]any{"op": 0, "t": "READY", "s": 1, "d": map[string]any{
			"v": 10, "session_id": "s1", "user": map[string]any{"id": "app1", "username": "day2bot"}, "guilds": []any{},
		}}); err != nil {
			return
		}
		closed := make(chan struct{})
		go func() { // drain heartbeats until the client goes away
			defer close(closed)
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return
				}
			}
		}()
		for {
			select {
			case ev := <-g.events:
				if err := conn.WriteJSON(ev); err != nil {
					return
				}
			case <-closed:
				return
			}
		}
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func TestConnectGatewayAnswersInteractions(t *testing.T) {
	fake := newFakeDiscord(t)
	gw := newFakeGateway(t)
	fake.mu.Lock()
	fake.gateway = "ws" + strings.TrimPrefix(gw.srv.URL, "http")
	fake.mu.Unlock()
	// The connection closes after the test returns; its logs must not
	// reach t.Log then.
	a := newTestAdapter(t, fake.APIURL(), func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := a.ConnectGateway(ctx, echoEngine{}); err != nil {
		t.Fatal(err)
	}
	identify := <-gw.ident
	if !strings.Contains(string(identify), `"token":"Bot bot-token"`) {
		t.Errorf("identify %s", identify)
	}
	_, _, body := fake.payload(interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "apps"})
	var ix map[string]any
	if err := json.Unmarshal(body, &ix); err != nil {
		t.Fatal(err)
	}
	gw.events <- map[string]any{"op": 0, "t": "INTERACTION_CREATE", "s": 2, "d": ix}
	path := fmt.Sprintf("/interactions/%s/%s/callback", ix["id"], ix["token"])
	fake.waitFor("the callback", func() bool { return len(fake.callsTo(http.MethodPost, path)) == 1 })
	cb := fake.callsTo(http.MethodPost, path)[0]
	if !strings.Contains(string(cb.Body), "you said: apps") || !strings.Contains(string(cb.Body), `"flags":64`) {
		t.Errorf("callback %s", cb.Body)
	}
}
