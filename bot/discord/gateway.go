package discord

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"
)

// ConnectGateway opens the gateway websocket and answers interactions it
// delivers until ctx ends, when the connection is closed; discordgo
// reconnects on its own meanwhile. Use it or HTTPHandler: Discord sends
// interactions to the Interactions Endpoint URL when one is set, else
// over the gateway.
func (a *Adapter) ConnectGateway(ctx context.Context, e Engine) error {
	remove := a.rest.AddHandler(func(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
		a.onGatewayInteraction(ctx, e, ic.Interaction)
	})
	if err := a.rest.Open(); err != nil {
		remove()
		return fmt.Errorf("open discord gateway: %w", err)
	}
	a.log.InfoContext(ctx, "discord gateway connected")
	go func() {
		<-ctx.Done()
		remove()
		if err := a.rest.Close(); err != nil {
			a.log.Warn("close discord gateway", "err", err)
		}
	}()
	return nil
}

// onGatewayInteraction answers one gateway interaction through the
// callback endpoint, once per interaction id.
func (a *Adapter) onGatewayInteraction(ctx context.Context, e Engine, ix *discordgo.Interaction) {
	if ix == nil || !a.seen.first(ix.ID, a.now()) {
		a.log.DebugContext(ctx, "discord duplicate interaction dropped")
		return
	}
	a.dispatch(ctx, e, ix, func(resp *discordgo.InteractionResponse) error {
		return a.do(ctx, "respond to discord interaction", func(opts ...discordgo.RequestOption) error {
			return a.rest.InteractionRespond(ix, resp, opts...)
		})
	})
}
