package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/day2bot/day2bot/bot"
)

// CommandsHandler serves POST /slack/commands: a verified slash command
// is acknowledged with an empty 200 at once and handed to h in the
// background; h answers through the command's Reply.
func (a *Adapter) CommandsHandler(h Handler) http.Handler {
	return a.formHandler("command", func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
		if form.Get("ssl_check") == "1" {
			// Slack checking the certificate of the Request URL.
			w.WriteHeader(http.StatusOK)
			return false
		}
		sc := slashFromForm(form)
		if sc.UserID == "" || sc.ChannelID == "" {
			http.Error(w, "missing user_id or channel_id", http.StatusBadRequest)
			return false
		}
		if o := commandOrigin(sc); !a.allowed(o) {
			a.refused(r.Context(), o, sc.UserID, "command")
			// A slash command's ack may carry the answer: no Web API call.
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(slack.Msg{ResponseType: slack.ResponseTypeEphemeral, Text: notAllowedText})
			return true
		}
		w.WriteHeader(http.StatusOK)
		a.dispatchCommand(r.Context(), h, sc)
		return true
	})
}

// InteractionsHandler serves POST /slack/interactions: button clicks
// (block_actions) are handed to h and acknowledged once h has recorded
// them (see bot.WithAckGate), or after AckWait.
func (a *Adapter) InteractionsHandler(h Handler) http.Handler {
	return a.formHandler("interaction", func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return false
		}
		if resp := a.formErrors(r.Context(), h, cb); resp != nil {
			w.Header().Set("Content-Type", "application/json")
			if err := json.NewEncoder(w).Encode(resp); err != nil {
				a.log.WarnContext(r.Context(), "slack form errors", "err", err)
			}
			return true
		}
		a.dispatchRecorded(r.Context(), h, cb)
		w.WriteHeader(http.StatusOK)
		return true
	})
}

// dispatchRecorded dispatches cb and returns once the engine has recorded
// it, it was not handed over at all, or AckWait has passed (then the click
// is acknowledged anyway, as Slack would otherwise show the clicker an
// error and retry, and it is still handled).
func (a *Adapter) dispatchRecorded(ctx context.Context, h Handler, cb slack.InteractionCallback) {
	recorded := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(recorded) }) }
	if !a.dispatchInteraction(bot.WithAckGate(ctx, release), h, cb) {
		return
	}
	t := time.NewTimer(a.opts.AckWait)
	defer t.Stop()
	select {
	case <-recorded:
	case <-t.C:
		a.log.WarnContext(ctx, "slack click acknowledged before it was recorded", "user", cb.User.ID, "wait", a.opts.AckWait.String())
	}
}

// formHandler verifies a request and parses its form body for serve, which
// answers and reports whether it acked a request of kind; only acks are
// timed.
func (a *Adapter) formHandler(kind string, serve func(http.ResponseWriter, *http.Request, url.Values) bool) http.Handler {
	return a.verified(func(w http.ResponseWriter, r *http.Request, body []byte) {
		start := time.Now()
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if serve(w, r, form) {
			a.metrics.acked("http", kind, start)
		}
	})
}

func slashFromForm(f url.Values) slack.SlashCommand {
	return slack.SlashCommand{
		TeamID:              f.Get("team_id"),
		EnterpriseID:        f.Get("enterprise_id"),
		IsEnterpriseInstall: f.Get("is_enterprise_install") == "true",
		ChannelID:           f.Get("channel_id"),
		UserID:              f.Get("user_id"),
		UserName:            f.Get("user_name"),
		Command:             f.Get("command"),
		Text:                f.Get("text"),
		ResponseURL:         f.Get("response_url"),
		TriggerID:           f.Get("trigger_id"),
	}
}

// dispatchCommand hands a slash command to h without holding up the ack.
// The request's context is detached: the work outlives the request.
func (a *Adapter) dispatchCommand(ctx context.Context, h Handler, sc slack.SlashCommand) {
	issued := a.now()
	ctx = context.WithoutCancel(ctx)
	a.inflight.Go(ctx, func(ctx context.Context) {
		name := a.displayName(ctx, sc.UserID, sc.UserName)
		a.log.DebugContext(ctx, "slack command", "user", sc.UserID, "channel", sc.ChannelID, "command", sc.Command)
		h.HandleCommand(ctx, bot.Command{
			Platform: a.Name(),
			Team:     sc.TeamID,
			User:     sc.UserID,
			UserName: name,
			Channel:  sc.ChannelID,
			Text:     sc.Text,
			Reply:    a.withTrigger(a.newResponder(sc.ResponseURL, sc.ChannelID, sc.UserID, issued), sc.TriggerID),
		})
	})
}

// dispatchInteraction hands each button of a block_actions payload to h,
// or a submitted form (view_submission) as its command, and reports
// whether it did. Other interaction types (shortcuts) are not used by
// day2bot.
func (a *Adapter) dispatchInteraction(ctx context.Context, h Handler, cb slack.InteractionCallback) bool {
	if cb.Type == slack.InteractionTypeViewSubmission {
		// Acknowledged at once, which closes the modal; the answers come
		// as messages in the channel the form was asked from.
		a.submitForm(ctx, h, cb)
		return false
	}
	if cb.Type != slack.InteractionTypeBlockActions {
		a.log.DebugContext(ctx, "slack interaction ignored", "type", cb.Type)
		return false
	}
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	if o := interactionOrigin(cb); !a.allowed(o) {
		a.refused(ctx, o, cb.User.ID, "click")
		a.refuseLater(ctx, cb.ResponseURL, channel, cb.User.ID)
		return false
	}
	issued := a.now()
	ctx = context.WithoutCancel(ctx)
	ts := cb.Container.MessageTs
	if ts == "" {
		ts = cb.Message.Timestamp
	}
	a.inflight.Go(ctx, func(ctx context.Context) {
		defer bot.OpenAckGate(ctx)
		name := a.displayName(ctx, cb.User.ID, cb.User.Name)
		for _, act := range cb.ActionCallback.BlockActions {
			h.HandleAction(ctx, bot.Action{
				Platform: a.Name(),
				Team:     cb.Team.ID,
				User:     cb.User.ID,
				UserName: name,
				Channel:  channel,
				ButtonID: act.ActionID,
				Message:  bot.MessageRef{Platform: a.Name(), Channel: channel, ID: ts},
				Reply:    a.withTrigger(a.newResponder(cb.ResponseURL, channel, cb.User.ID, issued), cb.TriggerID),
			})
		}
	})
	return true
}
