package discord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/day2bot/day2bot/bot"
)

// maxRateLimitRetries bounds how often one call is retried after a 429.
// discordgo's own retry loops forever and sleeps without a context, so it
// is switched off per request and done here instead.
const maxRateLimitRetries = 3

// tokenLife is how long an interaction token may use its webhook; the
// margin keeps a slow call from starting just before it expires.
const (
	tokenLife   = 15 * time.Minute
	tokenMargin = 30 * time.Second
)

// newSession builds the discordgo session used for every REST call. Its
// endpoint strings are package variables computed at init, so a custom API
// base is applied by the transport, never by changing them. discordgo's
// RateLimiter reads X-RateLimit-Remaining / -Reset-After / -Global on each
// response and makes the next call in that bucket wait.
func newSession(token, apiURL string) (*discordgo.Session, error) {
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("new discord session: %w", err)
	}
	var rt http.RoundTripper = http.DefaultTransport
	if apiURL != "" {
		base, err := url.Parse(strings.TrimRight(apiURL, "/"))
		if err != nil || base.Scheme == "" || base.Host == "" {
			return nil, fmt.Errorf("parse DISCORD_API_URL %q: want an absolute URL", apiURL)
		}
		rt = &rewrite{base: base, next: rt}
	}
	s.Client = &http.Client{Timeout: 20 * time.Second, Transport: rt}
	s.ShouldRetryOnRateLimit = false
	s.Identify.Intents = discordgo.IntentsGuilds
	return s, nil
}

// rewrite sends requests for discordgo.EndpointAPI to base instead.
type rewrite struct {
	base *url.URL
	next http.RoundTripper
}

func (t *rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	rest, ok := strings.CutPrefix(r.URL.String(), discordgo.EndpointAPI)
	if !ok {
		return t.next.RoundTrip(r)
	}
	u, err := url.Parse(t.base.String() + "/" + rest)
	if err != nil {
		return nil, fmt.Errorf("rewrite discord url: %w", err)
	}
	r = r.Clone(r.Context())
	r.URL = u
	r.Host = u.Host
	return t.next.RoundTrip(r)
}

// do runs one REST call with the request's context, retrying after a 429
// for as long as Discord's retry_after says, at most maxRateLimitRetries
// times. f must build its request anew on each attempt (file readers).
func (a *Adapter) do(ctx context.Context, what string, f func(opts ...discordgo.RequestOption) error) error {
	for attempt := 0; ; attempt++ {
		err := f(discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false))
		var rl *discordgo.RateLimitError
		if errors.As(err, &rl) && attempt < maxRateLimitRetries {
			a.log.InfoContext(ctx, "discord rate limited", "call", what, "retry_after", rl.RetryAfter)
			if err := a.sleep(ctx, rl.RetryAfter); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}

// webhook is an interaction token that may edit one message.
type webhook struct {
	token   string
	target  string // "@original" or a follow-up's message id
	expires time.Time
}

func (a *Adapter) rememberWebhook(messageID string, h webhook) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	for id, old := range a.hooks {
		if now.After(old.expires) {
			delete(a.hooks, id)
		}
	}
	a.hooks[messageID] = h
}

func (a *Adapter) webhookFor(messageID string) (webhook, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, ok := a.hooks[messageID]
	if !ok || a.now().After(h.expires) {
		return webhook{}, false
	}
	return h, true
}

func (a *Adapter) editWebhook(ctx context.Context, h webhook, r rendered) error {
	return a.do(ctx, "edit discord interaction message", func(opts ...discordgo.RequestOption) error {
		_, err := a.rest.WebhookMessageEdit(a.cfg.AppID, h.token, h.target, r.webhookEdit(), opts...)
		return err
	})
}

// files gives fresh readers for one request.
func (r rendered) files() []*discordgo.File {
	var fs []*discordgo.File
	for _, f := range r.Files {
		fs = append(fs, &discordgo.File{Name: f.Name, ContentType: f.Type, Reader: bytes.NewReader(f.Content)})
	}
	return fs
}

// embeds is never nil: an edit must send [] to clear embeds.
func (r rendered) embeds() *[]*discordgo.MessageEmbed {
	e := r.Embeds
	if e == nil {
		e = []*discordgo.MessageEmbed{}
	}
	return &e
}

// messageEdit is webhookEdit for an edit with the bot token.
func (r rendered) messageEdit(ref bot.MessageRef) *discordgo.MessageEdit {
	w := r.webhookEdit()
	return &discordgo.MessageEdit{ID: ref.ID, Channel: ref.Channel, Content: w.Content, Embeds: w.Embeds,
		Components: w.Components, Files: w.Files, Attachments: w.Attachments, AllowedMentions: w.AllowedMentions}
}

func (r rendered) webhookEdit() *discordgo.WebhookEdit {
	return &discordgo.WebhookEdit{
		Content:         &r.Content,
		Embeds:          r.embeds(),
		Components:      &r.Components,
		Files:           r.files(),
		Attachments:     &[]*discordgo.MessageAttachment{},
		AllowedMentions: r.allowed(),
	}
}

func (r rendered) responseData(ephemeral bool) *discordgo.InteractionResponseData {
	d := &discordgo.InteractionResponseData{
		Content:         r.Content,
		Embeds:          *r.embeds(),
		Components:      r.Components,
		AllowedMentions: r.allowed(),
	}
	if ephemeral {
		d.Flags = discordgo.MessageFlagsEphemeral
	}
	return d
}
