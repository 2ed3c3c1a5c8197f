package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/bot/discord"
	"github.com/day2bot/day2bot/policies/store"
)

// discordInteractionsPath is where Discord posts interactions in HTTP transport; the
// application's Interactions Endpoint URL must point here.
const discordInteractionsPath = "/discord/interactions"

// discordSetup is Discord's part of serve. It is built before the engine
// (the engine needs the Platform) and started after it (interactions need
// the engine).
type discordSetup struct {
	adapter   *discord.Adapter
	transport string // "http" or "gateway"
	log       *slog.Logger
}

// newDiscord builds the Discord adapter from config and secrets, or
// returns nil when no Discord secret is set at all. Half a configuration
// is an error that names what is missing.
func newDiscord(cfg *Config, log *slog.Logger, st *store.Store) (*discordSetup, error) {
	s := cfg.Secrets
	if s.DiscordBotToken == "" && s.DiscordAppID == "" && s.DiscordPublicKey == "" {
		return nil, nil
	}
	transport := cfg.Discord.Transport
	if transport == "" {
		transport = "gateway"
		if s.DiscordPublicKey != "" {
			transport = "http"
		}
	}
	var missing []error
	if s.DiscordAppID == "" {
		missing = append(missing, errors.New("DISCORD_APP_ID is not set"))
	}
	if s.DiscordBotToken == "" {
		missing = append(missing, errors.New("DISCORD_BOT_TOKEN is not set (needed to post and edit messages in both transports)"))
	}
	var pub []byte
	if transport == "http" {
		if s.DiscordPublicKey == "" {
			missing = append(missing, errors.New("DISCORD_PUBLIC_KEY is not set (needed for discord.transport http)"))
		} else {
			k, err := discord.ParsePublicKey(s.DiscordPublicKey)
			if err != nil {
				missing = append(missing, err)
			}
			pub = k
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("configure discord: %w", errors.Join(missing...))
	}
	dc := discord.Config{
		AppID:     s.DiscordAppID,
		BotToken:  s.DiscordBotToken,
		PublicKey: pub,
		GuildID:   cfg.Discord.GuildID,
		APIURL:    s.DiscordAPIURL,
		Logger:    log,
		Guilds:    cfg.Discord.Guilds,
		DMs:       cfg.Discord.DMs,
	}
	if st != nil {
		dc.Replay, dc.Auditor = st, st
	}
	a, err := discord.New(dc)
	if err != nil {
		return nil, fmt.Errorf("configure discord: %w", err)
	}
	return &discordSetup{adapter: a, transport: transport, log: log}, nil
}

// Platform is what the engine posts and updates Discord messages through.
func (d *discordSetup) Platform() bot.Platform { return d.adapter }

// start registers /day2 (in discord.guild_id if set, else globally), then
// mounts POST /discord/interactions on mux (transport http) or connects the
// gateway until ctx ends (transport gateway).
func (d *discordSetup) start(ctx context.Context, e discord.Engine, mux *http.ServeMux) error {
	if err := d.adapter.Register(ctx); err != nil {
		return fmt.Errorf("start discord: %w", err)
	}
	if d.transport == "http" {
		mux.Handle("POST "+discordInteractionsPath, d.adapter.HTTPHandler(e))
		d.log.InfoContext(ctx, "discord interactions endpoint mounted", "path", discordInteractionsPath)
		return nil
	}
	if err := d.adapter.ConnectGateway(ctx, e); err != nil {
		return fmt.Errorf("start discord: %w", err)
	}
	return nil
}
