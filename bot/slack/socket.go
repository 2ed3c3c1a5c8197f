package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode connects to Slack over Socket Mode (apps.connections.open
// with the app token, then a websocket) and serves commands and clicks
// until ctx ends. No public URL is needed. Every envelope is acked before
// anything else happens, except a click, acked once recorded; slack-go reconnects when Slack asks it to.
func (a *Adapter) RunSocketMode(ctx context.Context, h Handler) error {
	if a.opts.AppToken == "" {
		return errors.New("run slack socket mode: no app token (SLACK_APP_TOKEN)")
	}
	smc := socketmode.New(a.api, socketmode.OptionLog(slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- smc.RunContext(ctx) }()
	var clicks sync.WaitGroup // clicks waiting to be acked
	defer clicks.Wait()
	for {
		select {
		case <-ctx.Done():
			<-errc
			return nil
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("run slack socket mode: %w", err)
		case evt := <-smc.Events:
			a.socketEvent(ctx, smc, h, evt, &clicks)
		}
	}
}

func (a *Adapter) socketEvent(ctx context.Context, smc *socketmode.Client, h Handler, evt socketmode.Event, clicks *sync.WaitGroup) {
	start := time.Now()
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		sc, ok := evt.Data.(slack.SlashCommand)
		a.ack(ctx, smc, evt)
		if !ok || sc.UserID == "" || sc.ChannelID == "" {
			a.log.WarnContext(ctx, "slack socket mode: malformed slash command")
			return
		}
		if o := commandOrigin(sc); !a.allowed(o) {
			a.refused(ctx, o, sc.UserID, "command")
			a.refuseLater(ctx, sc.ResponseURL, sc.ChannelID, sc.UserID)
			return
		}
		if !a.firstDelivery(ctx, sc.TriggerID) {
			return
		}
		a.dispatchCommand(ctx, h, sc)
		a.metrics.acked("socket", "command", start)
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			a.ack(ctx, smc, evt)
			return
		}
		if cb.Type == slack.InteractionTypeBlockSuggestion && evt.Request != nil {
			// The options ride on the ack, as on the HTTP options route.
			clicks.Add(1)
			go func() {
				defer clicks.Done()
				var resp any = slack.OptionsResponse{Options: []*slack.OptionBlockObject{}}
				if c, ok := h.(Chooser); ok {
					resp = a.options(ctx, c, cb)
				}
				if err := smc.AckCtx(ctx, evt.Request.EnvelopeID, resp); err != nil {
					a.log.WarnContext(ctx, "slack socket mode ack", "envelope", evt.Request.EnvelopeID, "err", err)
				}
				a.metrics.acked("socket", "options", start)
			}()
			return
		}
		if resp := a.formErrors(ctx, h, cb); resp != nil && evt.Request != nil {
			// The errors ride on the ack and keep the form open.
			if err := smc.AckCtx(ctx, evt.Request.EnvelopeID, resp); err != nil {
				a.log.WarnContext(ctx, "slack socket mode ack", "envelope", evt.Request.EnvelopeID, "err", err)
			}
			a.metrics.acked("socket", "interaction", start)
			return
		}
		// Acked once recorded, as over HTTP; waiting off the event loop
		// so one slow click does not hold up the others.
		clicks.Add(1)
		go func() {
			defer clicks.Done()
			a.dispatchRecorded(ctx, h, cb)
			a.ack(ctx, smc, evt)
			a.metrics.acked("socket", "interaction", start)
		}()
	case socketmode.EventTypeEventsAPI:
		// Not subscribed to events; ack so Slack does not redeliver.
		a.ack(ctx, smc, evt)
	case socketmode.EventTypeConnected:
		a.log.InfoContext(ctx, "slack socket mode connected")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage:
		a.log.WarnContext(ctx, "slack socket mode", "event", string(evt.Type), "data", fmt.Sprint(evt.Data))
	}
}

func (a *Adapter) ack(ctx context.Context, smc *socketmode.Client, evt socketmode.Event) {
	if evt.Request == nil {
		return
	}
	if err := smc.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
		a.log.WarnContext(ctx, "slack socket mode ack", "envelope", evt.Request.EnvelopeID, "err", err)
	}
}

// firstDelivery reports whether the slash command with this trigger_id is
// met for the first time. Slack delivers an envelope again when its ack
// did not arrive, possibly on another replica's connection; the replay
// memory (the store, shared by the replicas) makes it run once. A memory
// that cannot answer lets it through: over Socket Mode a repeat is a
// redelivery, not an attack, and losing a command is worse.
func (a *Adapter) firstDelivery(ctx context.Context, triggerID string) bool {
	if triggerID == "" {
		return true
	}
	first, err := a.replay.SeenOnce(ctx, "slack-socket:"+triggerID, a.now().Add(replayWindow))
	if err != nil {
		a.log.WarnContext(ctx, "slack socket mode: replay memory", "err", err)
		return true
	}
	if !first {
		a.log.InfoContext(ctx, "slack socket mode: command delivered again; already handled", "trigger_id", triggerID)
	}
	return first
}
