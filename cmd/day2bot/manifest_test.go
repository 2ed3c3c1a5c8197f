package main

import (
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The Slack manifest is what a newcomer pastes; it must declare what serve
// relies on: the /day2 command on serve's route, buttons on serve's
// interactions route, Socket Mode, and every bot scope the adapter uses.
func TestSlackManifestMatchesServe(t *testing.T) {
	data, err := os.ReadFile("../../docs/slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			SlashCommands []struct {
				Command string `yaml:"command"`
				URL     string `yaml:"url"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Interactivity struct {
				Enabled    bool   `yaml:"is_enabled"`
				RequestURL string `yaml:"request_url"`
				OptionsURL string `yaml:"message_menu_options_url"`
			} `yaml:"interactivity"`
			SocketMode bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/day2" ||
		m.Features.SlashCommands[0].URL != "https://day2bot.example.com/slack/commands" {
		t.Errorf("slash command = %+v", m.Features.SlashCommands)
	}
	if !m.Settings.Interactivity.Enabled || m.Settings.Interactivity.RequestURL != "https://day2bot.example.com/slack/interactions" ||
		m.Settings.Interactivity.OptionsURL != "https://day2bot.example.com/slack/options" {
		t.Errorf("interactivity = %+v", m.Settings.Interactivity)
	}
	if !m.Settings.SocketMode {
		t.Error("socket mode is off; the README's default path needs it")
	}
	for _, s := range []string{"commands", "chat:write", "chat:write.public", "users:read", "files:write"} {
		if !slices.Contains(m.OAuth.Scopes.Bot, s) {
			t.Errorf("bot scope %s missing from %v", s, m.OAuth.Scopes.Bot)
		}
	}
}
