package main

import (
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	env := map[string]string{"SLACK_SIGNING_SECRET": "s3cr3t", "DISCORD_APP_ID": "42"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name    string
		doc     string
		wantErr string
		check   func(t *testing.T, c *Config)
	}{
		{name: "empty document", doc: "", check: func(t *testing.T, c *Config) {
			if c.Secrets.SlackSigningSecret != "s3cr3t" || c.Secrets.DiscordAppID != "42" {
				t.Fatalf("secrets not read from env: %+v", c.Secrets)
			}
		}},
		{name: "apps and platforms", doc: `
database: /data/day2bot.db
listen: ":9090"
admins: [alice]
slack: {mode: http}
discord: {transport: gateway, guild_id: "123"}
apps:
  shop:
    blueprints: [ec2-web, rds]
    region: eu-central-1
    owners: [alice]
    channels: ["slack:C0123"]
`, check: func(t *testing.T, c *Config) {
			app, ok := c.Apps["shop"]
			if !ok || len(app.Blueprints) != 2 || app.Region != "eu-central-1" {
				t.Fatalf("apps = %+v", c.Apps)
			}
			if c.Slack.Mode != "http" || c.Discord.GuildID != "123" || c.Listen != ":9090" {
				t.Fatalf("platform settings = %+v %+v %q", c.Slack, c.Discord, c.Listen)
			}
		}},
		{name: "allow-lists", doc: `
slack: {teams: [T1, T2], enterprises: [E1]}
discord: {guilds: ["42"], dms: true}
`, check: func(t *testing.T, c *Config) {
			if len(c.Slack.Teams) != 2 || c.Slack.Enterprises[0] != "E1" || c.Discord.Guilds[0] != "42" || !c.Discord.DMs {
				t.Fatalf("allow-lists = %+v %+v", c.Slack, c.Discord)
			}
			if w := c.openToAll(true, true); len(w) != 0 {
				t.Errorf("warnings with lists set: %q", w)
			}
		}},
		{name: "no allow-lists warn", doc: "", check: func(t *testing.T, c *Config) {
			if w := c.openToAll(true, true); len(w) != 2 || !strings.Contains(w[1], "discord.guilds is empty") {
				t.Errorf("warnings = %q", w)
			}
			if c.Discord.DMs {
				t.Error("discord.dms defaults to true")
			}
		}},
		{name: "typo is an error with a line", doc: "slak: {mode: http}\n", wantErr: "line 1: field slak not found"},
		{name: "secret in file is refused", doc: "slack: {signing_secret: x}\n", wantErr: "field signing_secret not found"},
		{name: "bad slack mode", doc: "slack: {mode: rtm}\n", wantErr: `slack.mode: "rtm" is not one of socket, http`},
		{name: "bad discord transport", doc: "discord: {transport: carrier-pigeon}\n", wantErr: "discord.transport"},
		{name: "not yaml", doc: "apps: [\n", wantErr: "parse config day2bot.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig("day2bot.yaml", []byte(tt.doc), getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
