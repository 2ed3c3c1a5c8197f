package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/bot"
)

// call is one interaction in flight and its bot.Responder. The transport
// waits for the engine's first answer and sends it as the interaction
// response (type 4, or 7 for an update of the clicked message); if none
// comes in time it defers (5 or 6) and later answers become webhook calls.
type call struct {
	a     *Adapter
	ix    *discordgo.Interaction
	start time.Time
	// first carries the initial response to the transport; buffered so a
	// responder never blocks on it.
	first chan *discordgo.InteractionResponse
	acked chan struct{} // closed once the initial response was sent
	// ackErr is written before acked is closed.
	ackErr error

	mu    sync.Mutex
	state callState
	// placeholder: @original is a deferred "thinking…" message that the
	// next answer should replace; ephemeral tells its visibility.
	placeholder          bool
	placeholderEphemeral bool
}

type callState int

const (
	waiting callState = iota
	answered
	deferred
)

// callKey carries the call in the context handed to the engine, so an
// Update made while handling a click can find that click.
type callKey struct{}

var _ bot.Responder = (*call)(nil)

func newCall(a *Adapter, ix *discordgo.Interaction) *call {
	return &call{
		a:     a,
		ix:    ix,
		start: a.now(),
		first: make(chan *discordgo.InteractionResponse, 1),
		acked: make(chan struct{}),
	}
}

// Ephemeral implements bot.Responder.
func (c *call) Ephemeral(ctx context.Context, m bot.Message) error {
	_, err := c.reply(ctx, m, true)
	return err
}

// Public implements bot.Responder.
func (c *call) Public(ctx context.Context, m bot.Message) (bot.MessageRef, error) {
	return c.reply(ctx, m, false)
}

func (c *call) reply(ctx context.Context, m bot.Message, ephemeral bool) (bot.MessageRef, error) {
	r := render(m)
	c.mu.Lock()
	first := c.state == waiting
	if first {
		c.state = answered
	}
	c.mu.Unlock()
	if first {
		return c.firstAnswer(ctx, r, ephemeral)
	}
	return c.laterAnswer(ctx, m, r, ephemeral)
}

// firstAnswer becomes the interaction response itself.
func (c *call) firstAnswer(ctx context.Context, r rendered, ephemeral bool) (bot.MessageRef, error) {
	if len(r.Files) > 0 {
		// Files cannot ride in a JSON interaction response: defer with
		// the right visibility, then put the message in place.
		c.first <- deferral(ephemeral)
		if err := c.waitAck(ctx); err != nil {
			return bot.MessageRef{}, err
		}
		return c.editOriginal(ctx, r, ephemeral)
	}
	c.first <- &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: r.responseData(ephemeral),
	}
	if err := c.waitAck(ctx); err != nil || ephemeral {
		return bot.MessageRef{}, err
	}
	return c.original(ctx)
}

// laterAnswer goes through the interaction's webhook: it replaces a
// deferred placeholder of the same visibility, else it is a follow-up.
// Once the token has expired a public answer is posted with the bot token.
func (c *call) laterAnswer(ctx context.Context, m bot.Message, r rendered, ephemeral bool) (bot.MessageRef, error) {
	if err := c.waitAck(ctx); err != nil {
		return bot.MessageRef{}, err
	}
	if c.expired() {
		if ephemeral {
			return bot.MessageRef{}, fmt.Errorf("answer discord interaction: token expired after %v", tokenLife)
		}
		return c.a.Post(ctx, c.ix.ChannelID, m)
	}
	c.mu.Lock()
	replace := c.placeholder && c.placeholderEphemeral == ephemeral
	stale := c.placeholder && !replace
	c.placeholder = false
	c.mu.Unlock()
	if replace {
		return c.editOriginal(ctx, r, ephemeral)
	}
	ref, err := c.followup(ctx, r, ephemeral)
	if stale {
		// The placeholder had the other visibility; drop it so it does
		// not say "thinking…" until the token expires.
		if derr := c.a.do(ctx, "delete discord placeholder", func(opts ...discordgo.RequestOption) error {
			return c.a.rest.InteractionResponseDelete(c.ix, opts...)
		}); derr != nil {
			c.a.log.WarnContext(ctx, "discord placeholder not deleted", "err", derr)
		}
	}
	return ref, err
}

// updateInline makes an Update of the clicked message the click's type 7
// response. done is false when the click was already answered; the caller
// then edits the message by other means.
func (c *call) updateInline(ctx context.Context, m bot.Message) (done bool, err error) {
	r := render(m)
	c.mu.Lock()
	if c.state != waiting {
		c.mu.Unlock()
		return false, nil
	}
	c.state = answered
	c.mu.Unlock()
	resp := &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseUpdateMessage,
		Data: r.responseData(false),
	}
	if len(r.Files) > 0 {
		resp = &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
	}
	c.first <- resp
	if err := c.waitAck(ctx); err != nil {
		return true, err
	}
	if len(r.Files) > 0 {
		return true, c.a.editWebhook(ctx, c.hook("@original"), r)
	}
	return true, nil
}

// deferNow is the transport's fallback when no answer came in time.
func (c *call) deferNow() *discordgo.InteractionResponse {
	c.mu.Lock()
	if c.state != waiting {
		// An answer won the race; it is in first or about to be.
		c.mu.Unlock()
		return <-c.first
	}
	c.state = deferred
	var resp *discordgo.InteractionResponse
	if c.ix.Type == discordgo.InteractionMessageComponent {
		resp = &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
	} else {
		// Most late answers are ephemeral (queued, refused, failed); a
		// public one replaces the placeholder with a follow-up.
		resp = deferral(true)
		c.placeholder, c.placeholderEphemeral = true, true
	}
	c.mu.Unlock()
	return resp
}

func (c *call) isClickOn(messageID string) bool {
	return c.ix.Type == discordgo.InteractionMessageComponent && c.ix.Message != nil && c.ix.Message.ID == messageID
}

// ack records how the initial response went and releases the responder.
func (c *call) ack(resp *discordgo.InteractionResponse, err error) {
	if err == nil && c.ix.Message != nil && (resp.Type == discordgo.InteractionResponseUpdateMessage ||
		resp.Type == discordgo.InteractionResponseDeferredMessageUpdate) {
		// After a type 6 or 7 the click's @original is the clicked
		// message, so later edits of it may use this click's token. (After
		// a type 4 it is the new, ephemeral reply instead.)
		c.a.rememberWebhook(c.ix.Message.ID, c.hook("@original"))
	}
	c.ackErr = err
	close(c.acked)
}

func (c *call) waitAck(ctx context.Context) error {
	select {
	case <-c.acked:
		if c.ackErr != nil {
			return fmt.Errorf("answer discord interaction: %w", c.ackErr)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("answer discord interaction: %w", ctx.Err())
	}
}

func (c *call) expired() bool {
	return c.a.now().After(c.start.Add(tokenLife - tokenMargin))
}

func (c *call) hook(target string) webhook {
	return webhook{token: c.ix.Token, target: target, expires: c.start.Add(tokenLife - tokenMargin)}
}

// original finds the message our type 4 response created. Over HTTP the
// response may still be on its way to Discord, so a 404 is retried a few
// times.
func (c *call) original(ctx context.Context) (bot.MessageRef, error) {
	var msg *discordgo.Message
	var err error
	backoff := 50 * time.Millisecond
	for range 6 {
		err = c.a.do(ctx, "get discord interaction response", func(opts ...discordgo.RequestOption) error {
			var err error
			msg, err = c.a.rest.InteractionResponse(c.ix, opts...)
			return err
		})
		if httpStatus(err) != http.StatusNotFound {
			break
		}
		if serr := c.a.sleep(ctx, backoff); serr != nil {
			return bot.MessageRef{}, errors.Join(err, serr)
		}
		backoff *= 2
	}
	if err != nil {
		return bot.MessageRef{}, err
	}
	return c.remember(msg, "@original"), nil
}

func (c *call) editOriginal(ctx context.Context, r rendered, ephemeral bool) (bot.MessageRef, error) {
	var msg *discordgo.Message
	err := c.a.do(ctx, "edit discord interaction response", func(opts ...discordgo.RequestOption) error {
		var err error
		msg, err = c.a.rest.InteractionResponseEdit(c.ix, r.webhookEdit(), opts...)
		return err
	})
	if err != nil || ephemeral {
		return bot.MessageRef{}, err
	}
	return c.remember(msg, "@original"), nil
}

func (c *call) followup(ctx context.Context, r rendered, ephemeral bool) (bot.MessageRef, error) {
	var msg *discordgo.Message
	err := c.a.do(ctx, "send discord follow-up", func(opts ...discordgo.RequestOption) error {
		p := &discordgo.WebhookParams{
			Content:         r.Content,
			Embeds:          r.Embeds,
			Components:      r.Components,
			Files:           r.files(),
			AllowedMentions: r.allowed(),
		}
		if ephemeral {
			p.Flags = discordgo.MessageFlagsEphemeral
		}
		var err error
		msg, err = c.a.rest.FollowupMessageCreate(c.ix, true, p, opts...)
		return err
	})
	if err != nil || ephemeral {
		return bot.MessageRef{}, err
	}
	return c.remember(msg, msg.ID), nil
}

// remember returns the message's ref and lets later Updates of it use this
// interaction's webhook while the token lives.
func (c *call) remember(msg *discordgo.Message, target string) bot.MessageRef {
	ch := msg.ChannelID
	if ch == "" {
		ch = c.ix.ChannelID
	}
	c.a.rememberWebhook(msg.ID, c.hook(target))
	return bot.MessageRef{Platform: Name, Channel: ch, ID: msg.ID}
}

func deferral(ephemeral bool) *discordgo.InteractionResponse {
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if ephemeral {
		resp.Data = &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}
	}
	return resp
}
