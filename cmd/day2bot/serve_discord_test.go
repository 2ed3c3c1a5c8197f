package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
)

func discordEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestNewDiscordConfig(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	key := hex.EncodeToString(pub)
	cases := []struct {
		name      string
		yaml      string
		env       map[string]string
		transport string // "" = Discord off
		err       string
	}{
		{name: "off", env: map[string]string{}},
		{name: "http by public key", env: map[string]string{"DISCORD_APP_ID": "1", "DISCORD_BOT_TOKEN": "t", "DISCORD_PUBLIC_KEY": key}, transport: "http"},
		{name: "gateway by default", env: map[string]string{"DISCORD_APP_ID": "1", "DISCORD_BOT_TOKEN": "t"}, transport: "gateway"},
		{name: "gateway chosen", yaml: "discord:\n  transport: gateway\n", env: map[string]string{"DISCORD_APP_ID": "1", "DISCORD_BOT_TOKEN": "t", "DISCORD_PUBLIC_KEY": key}, transport: "gateway"},
		{name: "http without key", yaml: "discord:\n  transport: http\n", env: map[string]string{"DISCORD_APP_ID": "1", "DISCORD_BOT_TOKEN": "t"}, err: "DISCORD_PUBLIC_KEY"},
		{name: "bad key", env: map[string]string{"DISCORD_APP_ID": "1", "DISCORD_BOT_TOKEN": "t", "DISCORD_PUBLIC_KEY": "abc"}, err: "public key"},
		{name: "no token", env: map[string]string{"DISCORD_APP_ID": "1", "DISCORD_PUBLIC_KEY": key}, err: "DISCORD_BOT_TOKEN"},
		{name: "no app id", env: map[string]string{"DISCORD_BOT_TOKEN": "t"}, err: "DISCORD_APP_ID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfig("day2bot.yaml", []byte(tc.yaml), discordEnv(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			d, err := newDiscord(cfg, slog.New(slog.DiscardHandler), nil)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %s", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case tc.transport == "" && d != nil:
				t.Fatalf("Discord set up without secrets: %+v", d)
			case tc.transport != "" && (d == nil || d.transport != tc.transport):
				t.Fatalf("setup %+v, want transport %s", d, tc.transport)
			}
		})
	}
}

// TestStartDiscordHTTP registers /day2 in the configured guild against a
// stand-in for Discord's API that fails the first two registrations: the
// endpoint answers a signed PING while registration is still being
// retried, and registration succeeds on the third attempt.
func TestStartDiscordHTTP(t *testing.T) {
	var mu sync.Mutex
	var puts []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		puts = append(puts, r.Method+" "+r.URL.Path)
		n := len(puts)
		mu.Unlock()
		if n <= 2 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"message": "500: Internal Server Error", "code": 0}`)
			return
		}
		io.WriteString(w, `[]`)
	}))
	defer api.Close()
	pub, priv, _ := ed25519.GenerateKey(nil)
	cfg, err := parseConfig("day2bot.yaml", []byte("discord:\n  guild_id: \"42\"\n"), discordEnv(map[string]string{
		"DISCORD_APP_ID": "7", "DISCORD_BOT_TOKEN": "t", "DISCORD_PUBLIC_KEY": hex.EncodeToString(pub),
		"DISCORD_API_URL": api.URL + "/api/v10",
	}))
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDiscord(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Platform().Name() != "discord" {
		t.Errorf("platform %q", d.Platform().Name())
	}
	var logs enginetest.Transcript
	d.log = slog.New(slog.NewJSONHandler(&logs, nil))
	d.retryBase = time.Millisecond
	mux := http.NewServeMux()
	wait, err := d.start(context.Background(), nopDiscordEngine{}, mux)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		wait()
		mu.Lock()
		got := strings.Join(puts, ",")
		mu.Unlock()
		const put = "PUT /api/v10/applications/7/guilds/42/commands"
		if got != put+","+put+","+put {
			t.Errorf("registration calls: %s", got)
		}
		if n := strings.Count(logs.String(), "register discord /day2 failed; retrying"); n != 2 {
			t.Errorf("%d retry warnings, want 2:\n%s", n, logs.String())
		}
	}()
	body := []byte(`{"id":"1","application_id":"7","type":1,"token":"x","version":1}`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req := httptest.NewRequest(http.MethodPost, discordInteractionsPath, bytes.NewReader(body))
	req.Header.Set("X-Signature-Timestamp", ts)
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(priv, append([]byte(ts), body...))))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"type":1`) {
		t.Fatalf("PING: %d %s", rec.Code, rec.Body)
	}
}

type nopDiscordEngine struct{}

func (nopDiscordEngine) HandleCommand(context.Context, bot.Command)        {}
func (nopDiscordEngine) HandleAction(context.Context, bot.Action)          {}
func (nopDiscordEngine) Complete(context.Context, string, string) []string { return nil }
