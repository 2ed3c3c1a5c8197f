package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

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
	leased    bool   // the gateway is connected by the lease holder (singletons.go)
	log       *slog.Logger
	// retryBase overrides registerBackoff (tests).
	retryBase time.Duration
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

// start mounts POST /discord/interactions on mux (transport http) or
// connects the gateway until ctx ends (transport gateway), and registers
// /day2 (in discord.guild_id if set, else globally) in the background.
// The returned wait blocks until that registration has given up (ctx
// ended) or succeeded.
//
// Registration is retried with backoff and never stops serve: Discord's
// API being down at start must not take Slack (or already registered
// Discord commands, which outlive the process) down with it.
func (d *discordSetup) start(ctx context.Context, e discord.Engine, mux *http.ServeMux) (wait func(), err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.register(ctx)
	}()
	wait = func() { <-done }
	if d.transport == "http" {
		mux.Handle("POST "+discordInteractionsPath, d.adapter.HTTPHandler(e))
		d.log.InfoContext(ctx, "discord interactions endpoint mounted", "path", discordInteractionsPath)
		return wait, nil
	}
	if d.leased {
		return wait, nil
	}
	if err := d.adapter.ConnectGateway(ctx, e); err != nil {
		return wait, fmt.Errorf("start discord: %w", err)
	}
	return wait, nil
}

// Registration backoff: the first retry after registerBackoff, doubling
// up to registerBackoffMax.
const (
	registerBackoff    = 2 * time.Second
	registerBackoffMax = 5 * time.Minute
)

// register overwrites /day2 until it succeeds or ctx ends.
func (d *discordSetup) register(ctx context.Context) {
	wait := cmp.Or(d.retryBase, registerBackoff)
	for attempt := 1; ; attempt++ {
		err := d.adapter.Register(ctx)
		if err == nil {
			d.log.InfoContext(ctx, "discord /day2 registered", "attempts", attempt)
			return
		}
		if ctx.Err() != nil {
			return
		}
		// Jitter keeps replicas started together from retrying in step.
		delay := wait/2 + rand.N(wait/2+1)
		d.log.WarnContext(ctx, "register discord /day2 failed; retrying", "attempt", attempt, "retry_in", delay.String(), "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(wait*2, registerBackoffMax)
	}
}
