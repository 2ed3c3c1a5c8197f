package discord

import (
	"context"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/policies/store/sqlite"
)

// countingEngine answers every command ephemerally and counts them.
func countingEngine(n *atomic.Int32) *scriptedEngine {
	return &scriptedEngine{command: func(ctx context.Context, cmd bot.Command) {
		n.Add(1)
		_ = cmd.Reply.Ephemeral(ctx, bot.Message{Text: "ran " + cmd.Text})
	}}
}

// The same signed interaction posted three times runs once; the replay
// memory is the store's, so a restarted adapter refuses it too.
func TestHTTPReplayRunsOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "day2bot.db")
	st, err := sqlite.Open(ctx, path, store.WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL(), func(c *Config) { c.Replay = st })
	var ran atomic.Int32
	h := a.HTTPHandler(countingEngine(&ran))
	_, _, body := fake.payload(interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "shop restart-web"})
	hdr := signedHeader(testKey, testNow, body)
	want := []int{http.StatusOK, http.StatusUnauthorized, http.StatusUnauthorized}
	for i, w := range want {
		if status, _ := fake.post(h, hdr, body); status != w {
			t.Errorf("post %d: status %d, want %d", i+1, status, w)
		}
	}
	if n := ran.Load(); n != 1 {
		t.Errorf("engine ran the interaction %d times, want 1", n)
	}

	// A new process on the same database. (Both read the adapter's test
	// clock: the store forgets keys whose window has passed.)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := sqlite.Open(ctx, path, store.WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	a2 := newTestAdapter(t, fake.APIURL(), func(c *Config) { c.Replay = st2 })
	if status, _ := fake.post(a2.HTTPHandler(countingEngine(&ran)), hdr, body); status != http.StatusUnauthorized {
		t.Errorf("replay after restart: status %d, want 401", status)
	}
	if n := ran.Load(); n != 1 {
		t.Errorf("engine ran the interaction %d times after the restart, want 1", n)
	}
}
