package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/day2bot/day2bot/tasks/emulator"
)

// choicesPolicy: carol (a researcher) manages access to her own buckets
// only; alice (ops) may do everything.
const choicesPolicy = `
users:
  alice: ["discord:111", "slack:UALICE"]
  carol: ["discord:333", "slack:UCAROL"]
groups:
  ops: [alice]
  researchers: [carol]
rules:
  - id: ops-everything
    effect: allow
    subjects: ["group:ops"]
  - id: researchers-own-buckets
    effect: allow
    subjects: ["group:researchers"]
    tasks: [revoke-access, grant-read]
    params: {bucket: "lab*-{user}-*"}
`

// choicesApp seeds a research app (s3-data) with two of carol's buckets
// and one of alice's (each readable by sandboxVisitor), and a shop app (ec2-web); it returns the config's
// apps section and the research app's name.
func choicesApp(t *testing.T, emu *emulator.Server) (string, string) {
	t.Helper()
	app := fmt.Sprintf("lab%d", time.Now().UnixNano()%1_000_000_000)
	ctx := context.Background()
	for _, b := range []string{app + "-carol-imaging", app + "-carol-trials", app + "-alice-genomes"} {
		if err := emu.SeedBucket(ctx, emulator.Bucket{Name: b, Tags: map[string]string{"app": app}, Policy: sandboxBucketPolicy(b)}); err != nil {
			t.Fatal(err)
		}
	}
	// Not the app's: carries no app tag.
	if err := emu.SeedBucket(ctx, emulator.Bucket{Name: app + "-carol-private"}); err != nil {
		t.Fatal(err)
	}
	shop := app + "shop"
	if _, err := emu.SeedInstances(ctx, 1, emulator.InstanceSpec{Tags: map[string]string{"app": shop, "tier": "web"}}); err != nil {
		t.Fatal(err)
	}
	apps := fmt.Sprintf("apps:\n  %s:\n    blueprints: [s3-data]\n    region: us-east-1\n    owners: [alice]\n"+
		"  %s:\n    blueprints: [ec2-web]\n    region: us-east-1\n    owners: [alice]\n", app, shop)
	return apps, app
}

// startChoicesDiscord is serve with Discord over HTTP interactions and
// the choices apps.
func startChoicesDiscord(t *testing.T) (*discordServe, string) {
	t.Helper()
	api := newMiniDiscord(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	emu := emulator.New()
	t.Cleanup(emu.Close)
	apps, app := choicesApp(t, emu)
	cfgPath, _ := serveConfig(t, choicesPolicy, "discord:\n  guild_id: \"g1\"\n"+apps)
	vars := map[string]string{
		"DISCORD_APP_ID": "app1", "DISCORD_BOT_TOKEN": "bot-token",
		"DISCORD_PUBLIC_KEY": hex.EncodeToString(pub), "DISCORD_API_URL": api.srv.URL + "/api/v10",
	}
	addr, logs, stop := launchServe(t, cfgPath, vars, emu)
	return &discordServe{api: api, priv: priv, url: "http://" + addr + discordInteractionsPath, app: app, stop: stop, logs: logs}, app
}

// choiceValues are the values of an autocomplete answer (type 8).
func choiceValues(t *testing.T, resp map[string]any) []string {
	t.Helper()
	if resp["type"] != 8.0 {
		t.Fatalf("response type %v, want 8 (autocomplete result): %v", resp["type"], resp)
	}
	d, _ := resp["data"].(map[string]any)
	cs, _ := d["choices"].([]any)
	var out []string
	for _, c := range cs {
		m, _ := c.(map[string]any)
		v, _ := m["value"].(string)
		out = append(out, v)
	}
	return out
}

func TestServeDiscordAutocompleteOffersLiveValues(t *testing.T) {
	s, app := startChoicesDiscord(t)
	shop := app + "shop"
	for _, tc := range []struct {
		name, user, text string
		want             []string
		some             bool // want is a part of the answer, not all of it
	}{
		{name: "the caller's own buckets only", user: "333", text: app + " revoke-access bucket=",
			want: []string{app + " revoke-access bucket=" + app + "-carol-imaging", app + " revoke-access bucket=" + app + "-carol-trials"}},
		{name: "narrowed by what is typed", user: "333", text: app + " revoke-access bucket=" + app + "-carol-t",
			want: []string{app + " revoke-access bucket=" + app + "-carol-trials"}},
		{name: "every bucket of the app for ops", user: "111", text: app + " grant-read bucket=",
			want: []string{app + " grant-read bucket=" + app + "-alice-genomes", app + " grant-read bucket=" + app + "-carol-imaging", app + " grant-read bucket=" + app + "-carol-trials"}},
		{name: "a task the caller may not run offers nothing", user: "333", text: app + " teardown-bucket bucket="},
		{name: "the trailing space asks for the parameters", user: "333", text: app + " revoke-access ",
			want: []string{app + " revoke-access bucket=", app + " revoke-access principal="}},
		{name: "the trailing space asks for the tasks", user: "111", text: shop + " ",
			want: []string{shop + " restart-web", shop + " describe-web"}, some: true},
		{name: "and for a task's parameters", user: "111", text: shop + " restart-web ",
			want: []string{shop + " restart-web batch="}, some: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := choiceValues(t, s.autocomplete(t, tc.user, tc.text))
			slices.Sort(got)
			if tc.some {
				for _, w := range tc.want {
					if !slices.Contains(got, w) {
						t.Errorf("got %q, want %q among them", got, w)
					}
				}
				return
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// autocomplete sends what user has typed so far as an autocomplete
// interaction (type 4, the option focused).
func (s *discordServe) autocomplete(t *testing.T, user, text string) map[string]any {
	t.Helper()
	s.seq++
	return s.send(t, map[string]any{
		"id": fmt.Sprint(1000 + s.seq), "application_id": "app1", "token": fmt.Sprintf("tok%d", s.seq), "version": 1, "type": 4,
		"guild_id": "g1", "channel_id": "c1", "member": map[string]any{"user": map[string]any{"id": user, "username": "u" + user}},
		"data": map[string]any{"name": "day2", "type": 1, "options": []any{map[string]any{"name": "command", "type": 3, "value": text, "focused": true}}},
	})
}
