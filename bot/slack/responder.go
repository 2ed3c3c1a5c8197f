package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/day2bot/day2bot/bot"
)

// Slack lets a response_url be used five times within thirty minutes.
const (
	responseURLUses = 5
	responseURLTTL  = 30 * time.Minute
)

// inviteText explains the one fix for channel_not_found/not_in_channel:
// Slack reports a private channel the bot is not in as not found.
const inviteText = "I can't post in this channel: it is private or I am not a member. " +
	"Invite me with `/invite @day2bot` (or add the app in the channel's settings), then try again."

// responder answers the person behind one command or click. Ephemeral
// answers use the response_url (works in DMs and channels the bot is not
// in) while its budget lasts, then chat.postEphemeral; public messages go
// through chat.postMessage in the caller's channel.
type responder struct {
	a           *Adapter
	responseURL string
	issued      time.Time
	channel     string
	user        string
	triggerID   string // opens a form (modal) for 3 s after the request

	mu   sync.Mutex
	uses int
}

var _ bot.Responder = (*responder)(nil)

func (a *Adapter) newResponder(responseURL, channel, user string, issued time.Time) *responder {
	return &responder{a: a, responseURL: responseURL, issued: issued, channel: channel, user: user}
}

func (a *Adapter) withTrigger(r *responder, triggerID string) *responder {
	r.triggerID = triggerID
	return r
}

// Ephemeral shows m to the caller only. A file cannot ride on an
// ephemeral message, so a text attachment is shown inline instead.
func (r *responder) Ephemeral(ctx context.Context, m bot.Message) error {
	m = withFullTable(m)
	if f := m.Attachment; f != nil {
		m.Attachment = nil
		if strings.HasPrefix(f.Type, "text/") || f.Type == "" {
			m.Text = strings.TrimRight(m.Text, "\n") + "\n```\n" + string(f.Content) + "\n```"
		} else {
			m.Context = append(m.Context, fmt.Sprintf("%s is attached to channel posts only", f.Name))
		}
	}
	for _, msg := range render(m) {
		if err := r.ephemeral(ctx, msg); err != nil {
			return err
		}
	}
	return nil
}

func (r *responder) ephemeral(ctx context.Context, msg rendered) error {
	if r.takeURL() {
		// A 429 is waited out on the same use of the URL: Slack refused
		// the post, it did not show it.
		err := r.a.retryLimited(ctx, "response_url", func(ctx context.Context) error {
			return slack.PostWebhookCustomHTTPContext(ctx, r.responseURL, r.a.http, &slack.WebhookMessage{
				ResponseType: slack.ResponseTypeEphemeral,
				Text:         msg.Text,
				Blocks:       &slack.Blocks{BlockSet: msg.Blocks},
			})
		})
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || errors.Is(err, errOutboxClosed) {
			return fmt.Errorf("post slack ephemeral to %s through response_url: %w", r.user, err)
		}
		r.a.log.WarnContext(ctx, "slack response_url failed; using chat.postEphemeral", "channel", r.channel, "err", err)
	}
	err := r.a.retryLimited(ctx, "chat.postEphemeral", func(ctx context.Context) error {
		_, err := r.a.api.PostEphemeralContext(ctx, r.channel, r.user,
			slack.MsgOptionText(msg.Text, false), slack.MsgOptionBlocks(msg.Blocks...))
		return err
	})
	if err != nil {
		return fmt.Errorf("post slack ephemeral to %s in %s: %w", r.user, r.channel, err)
	}
	return nil
}

// takeURL spends one use of the response_url if it has any left.
func (r *responder) takeURL() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.responseURL == "" || r.uses >= responseURLUses || r.a.now().Sub(r.issued) >= responseURLTTL {
		return false
	}
	r.uses++
	return true
}

// Public posts m in the caller's channel. When the bot may not post there,
// the caller is told how to fix it and the error is returned as well.
func (r *responder) Public(ctx context.Context, m bot.Message) (bot.MessageRef, error) {
	ref, err := r.a.Post(ctx, r.channel, m)
	if err != nil && notInChannel(err) {
		if eerr := r.Ephemeral(ctx, bot.Message{Text: inviteText, Tone: bot.ToneWarning}); eerr != nil {
			r.a.log.WarnContext(ctx, "slack invite hint", "channel", r.channel, "err", eerr)
		}
	}
	return ref, err
}
