// Package discord connects day2bot to Discord: the /day2 application
// command over either the gateway or the HTTP interactions endpoint,
// approval buttons as message components, and the neutral bot.Message
// rendered as embeds. discordgo types never leave this package.
package discord

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/replay"
)

// Name is the platform name and principal prefix: users are discord:<id>.
const Name = "discord"

// Engine is what the adapter needs from bot.Engine.
type Engine interface {
	HandleCommand(ctx context.Context, cmd bot.Command)
	HandleAction(ctx context.Context, a bot.Action)
	Complete(ctx context.Context, principal, partial string) []string
}

// Config holds everything the adapter needs; the composition root fills
// it from day2bot.yaml and the environment.
type Config struct {
	AppID    string // DISCORD_APP_ID
	BotToken string // DISCORD_BOT_TOKEN, without the "Bot " prefix
	// PublicKey verifies HTTP interactions (DISCORD_PUBLIC_KEY); required
	// for HTTPHandler only.
	PublicKey ed25519.PublicKey
	// GuildID registers /day2 in one guild (instant) instead of globally.
	GuildID string
	// APIURL replaces https://discord.com/api/v10 (DISCORD_API_URL), e.g.
	// "http://127.0.0.1:8081/api/v10" for a fake.
	APIURL string
	// AckTimeout is how long an interaction waits for the engine's first
	// answer before deferring; Discord allows 3 s in all. Default 2 s.
	AckTimeout time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
	// Sleep waits between retries; nil means a timer that honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Replay remembers HTTP interactions already served for their
	// freshness window; serve passes the store. Default: in process only.
	Replay ReplayMemory
	// Guilds are the servers allowed to use the bot (discord.guilds);
	// empty: any. DMs allows direct messages (discord.dms, default
	// false). Anything else gets one private line and an audit entry;
	// the engine never sees it.
	Guilds []string
	DMs    bool
	// Auditor records refused interactions; nil logs them only.
	Auditor Auditor
}

// Adapter is the Discord bot.Platform. HTTPHandler and RunGateway are its
// two ways of receiving interactions.
type Adapter struct {
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	rest  *discordgo.Session
	seen  *dedupe
	// replay is the HTTP endpoint's memory of served interactions; the
	// gateway, which never replays across sessions, uses seen.
	replay ReplayMemory

	mu sync.Mutex
	// hooks: message id → the interaction webhook that may edit it while
	// its token lives (15 min); afterwards edits go through the bot token.
	hooks map[string]webhook
}

var _ bot.Platform = (*Adapter)(nil)

// New builds the adapter and its REST session. It does no I/O.
func New(cfg Config) (*Adapter, error) {
	if cfg.AppID == "" || cfg.BotToken == "" {
		return nil, errors.New("new discord adapter: DISCORD_APP_ID and DISCORD_BOT_TOKEN are required")
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if cfg.Replay == nil {
		cfg.Replay = replay.NewMemory(cfg.Now)
	}
	s, err := newSession(cfg.BotToken, cfg.APIURL)
	if err != nil {
		return nil, fmt.Errorf("new discord adapter: %w", err)
	}
	return &Adapter{
		cfg:    cfg,
		log:    cfg.Logger.With("platform", Name),
		now:    cfg.Now,
		sleep:  cfg.Sleep,
		rest:   s,
		seen:   newDedupe(4096, 20*time.Minute),
		replay: cfg.Replay,
		hooks:  map[string]webhook{},
	}, nil
}

// Name implements bot.Platform.
func (a *Adapter) Name() string { return Name }

// Post implements bot.Platform: a channel message sent with the bot token.
func (a *Adapter) Post(ctx context.Context, channel string, m bot.Message) (bot.MessageRef, error) {
	r := render(m)
	var msg *discordgo.Message
	err := a.do(ctx, "post discord message", func(opts ...discordgo.RequestOption) error {
		var err error
		msg, err = a.rest.ChannelMessageSendComplex(channel, &discordgo.MessageSend{
			Content:         r.Content,
			Embeds:          r.Embeds,
			Components:      r.Components,
			Files:           r.files(),
			AllowedMentions: r.allowed(),
		}, opts...)
		return err
	})
	if err != nil {
		return bot.MessageRef{}, err
	}
	return bot.MessageRef{Platform: Name, Channel: msg.ChannelID, ID: msg.ID}, nil
}

// Update implements bot.Platform. The first answer to a button click on
// ref becomes that click's UPDATE_MESSAGE response; within an interaction
// token's 15 minutes the edit goes through its webhook; otherwise through
// the channel messages API with the bot token.
func (a *Adapter) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	if c := a.pendingClick(ctx, ref.ID); c != nil {
		if done, err := c.updateInline(ctx, m); done {
			return err
		}
	}
	r := render(m)
	if h, ok := a.webhookFor(ref.ID); ok {
		err := a.editWebhook(ctx, h, r)
		if err == nil {
			return nil
		}
		a.log.WarnContext(ctx, "discord webhook edit failed, using the bot token", "message", ref.ID, "err", err)
	}
	return a.do(ctx, "edit discord message", func(opts ...discordgo.RequestOption) error {
		_, err := a.rest.ChannelMessageEditComplex(r.messageEdit(ref), opts...)
		return err
	})
}

// Register creates or overwrites /day2: in the configured guild (instant)
// or globally (may take up to an hour to appear). Idempotent.
func (a *Adapter) Register(ctx context.Context) error {
	return a.do(ctx, "register /day2", func(opts ...discordgo.RequestOption) error {
		_, err := a.rest.ApplicationCommandBulkOverwrite(a.cfg.AppID, a.cfg.GuildID,
			[]*discordgo.ApplicationCommand{day2Command()}, opts...)
		return err
	})
}

// pendingClick is the button click being handled on ctx if it was on
// message id and still waits for its first answer. Only the engine's own
// handling of that click carries it: an unrelated Update of the same
// message (a plan arriving, an expiry) must not answer someone's click.
func (a *Adapter) pendingClick(ctx context.Context, id string) *call {
	if c, ok := ctx.Value(callKey{}).(*call); ok && c.isClickOn(id) {
		return c
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// httpStatus is the HTTP status of a discordgo REST error, or 0.
func httpStatus(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}
