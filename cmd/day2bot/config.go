package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot/routines"
)

// Config is day2bot.yaml, parsed once here and passed down as values.
// Secrets never come from the file: only from the environment (Secrets).
type Config struct {
	// Apps and blueprint_dirs: the application catalogue.
	blueprints.Config `yaml:",inline"`

	// Database is the SQLite path; --db overrides it. Local disk only:
	// SQLite WAL must not sit on NFS/EFS.
	Database string `yaml:"database,omitempty"`
	// Listen is the HTTP address of serve; --listen overrides it.
	Listen  string        `yaml:"listen,omitempty"`
	Slack   SlackConfig   `yaml:"slack,omitempty"`
	Discord DiscordConfig `yaml:"discord,omitempty"`
	// Admins are handles or principals allowed to run `/day2 policy …`.
	Admins []string `yaml:"admins,omitempty"`
	// Routines tune digests and alerts (bot/routines).
	Routines routines.Config `yaml:"routines,omitempty"`
	// Dashboard is the per-app page (dashboard.go).
	Dashboard DashboardConfig `yaml:"dashboard,omitempty"`

	Secrets Secrets `yaml:"-"`
	// Catalog is the embedded library plus blueprint_dirs, loaded once by
	// loadConfig (which validates the apps against it).
	Catalog *blueprints.Catalog `yaml:"-"`
}

// SlackConfig holds the non-secret Slack settings.
type SlackConfig struct {
	// Mode is "socket" or "http"; empty picks socket when SLACK_APP_TOKEN
	// is set, else http when SLACK_SIGNING_SECRET is set.
	Mode string `yaml:"mode,omitempty"`
	// Teams and Enterprises allow-list the workspaces (T…) and Enterprise
	// Grid orgs (E…) that may use day2bot. Both empty: any workspace that
	// can reach the app (serve warns). Others, Slack Connect guests
	// included, get one private line and an audit entry.
	Teams       []string `yaml:"teams,omitempty"`
	Enterprises []string `yaml:"enterprises,omitempty"`
}

// DiscordConfig holds the non-secret Discord settings.
type DiscordConfig struct {
	// Transport is "gateway" or "http" (interactions endpoint URL); empty
	// picks http when DISCORD_PUBLIC_KEY is set, else gateway when
	// DISCORD_BOT_TOKEN is set.
	Transport string `yaml:"transport,omitempty"`
	// GuildID registers /day2 in one guild (instant) instead of globally.
	GuildID string `yaml:"guild_id,omitempty"`
	// Guilds allow-lists the servers that may use day2bot; empty: any
	// server the bot is in (serve warns). DMs lets people use it in
	// direct messages; default false.
	Guilds []string `yaml:"guilds,omitempty"`
	DMs    bool     `yaml:"dms,omitempty"`
}

// Secrets come from the environment only.
type Secrets struct {
	SlackBotToken      string
	SlackAppToken      string
	SlackSigningSecret string
	SlackAPIURL        string
	DiscordBotToken    string
	DiscordPublicKey   string
	DiscordAppID       string
	DiscordAPIURL      string
	DashboardKey       string // DAY2BOT_DASHBOARD_KEY: signs dashboard links and sessions
}

func secretsFromEnv(getenv func(string) string) Secrets {
	return Secrets{
		SlackBotToken:      getenv("SLACK_BOT_TOKEN"),
		SlackAppToken:      getenv("SLACK_APP_TOKEN"),
		SlackSigningSecret: getenv("SLACK_SIGNING_SECRET"),
		SlackAPIURL:        getenv("SLACK_API_URL"),
		DiscordBotToken:    getenv("DISCORD_BOT_TOKEN"),
		DiscordPublicKey:   getenv("DISCORD_PUBLIC_KEY"),
		DiscordAppID:       getenv("DISCORD_APP_ID"),
		DiscordAPIURL:      getenv("DISCORD_API_URL"),
		DashboardKey:       getenv("DAY2BOT_DASHBOARD_KEY"),
	}
}

// parseConfig decodes a config document strictly: an unknown key is an
// error naming the file and line, so typos do not silently disable things.
func parseConfig(file string, data []byte, getenv func(string) string) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty document is a valid, empty config.
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse config %s: %w", file, err)
	}
	c.Secrets = secretsFromEnv(getenv)
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &c, nil
}

// loadConfig reads and checks the config file; every subcommand that
// takes --config uses it, so all of them accept and refuse the same files.
func loadConfig(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no config file at %s: start one with `cp day2bot.example.yaml %s` from a clone "+
			"(README, Configuration), or try everything first with `day2bot sandbox`, which needs none", path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := parseConfig(path, data, getenv)
	if err != nil {
		return nil, err
	}
	// The apps against the blueprints, with file and path in each error:
	// the same for every subcommand.
	cat, err := loadCatalog(cfg.BlueprintDirs)
	if err != nil {
		return nil, err
	}
	if err := cfg.Config.Validate(path, cat, nil); err != nil {
		return nil, err
	}
	cfg.Catalog = cat
	return cfg, nil
}

// openToAll lists the platforms configured without an allow-list, each
// as the warning serve logs at start.
func (c *Config) openToAll(slack, discord bool) []string {
	var w []string
	if slack && len(c.Slack.Teams) == 0 && len(c.Slack.Enterprises) == 0 {
		w = append(w, "slack.teams and slack.enterprises are empty: any Slack workspace that can reach this app may use day2bot (Slack Connect guests included)")
	}
	if discord && len(c.Discord.Guilds) == 0 {
		w = append(w, "discord.guilds is empty: any Discord server that adds the bot may use day2bot")
	}
	return w
}

func (c *Config) validate() error {
	var errs []string
	switch c.Slack.Mode {
	case "", "socket", "http":
	default:
		errs = append(errs, fmt.Sprintf("slack.mode: %q is not one of socket, http", c.Slack.Mode))
	}
	switch c.Discord.Transport {
	case "", "gateway", "http":
	default:
		errs = append(errs, fmt.Sprintf("discord.transport: %q is not one of gateway, http", c.Discord.Transport))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}
