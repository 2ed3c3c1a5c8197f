package discord

import (
	"context"
	"fmt"
	"slices"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// The one private line a refused interaction gets.
const (
	notAllowedText = "This server is not allowed to use day2bot."
	noDMsText      = "day2bot does not answer direct messages; use /day2 in a server."
)

// Auditor keeps the record of interactions refused before the engine: the
// store's audit log in serve.
type Auditor interface {
	Audit(ctx context.Context, e store.Entry) error
}

var _ Auditor = (*store.Store)(nil)

// refusalOf is why ix may not use day2bot, or "" when it may: a DM (no
// guild_id) unless Config.DMs, or a guild not in Config.Guilds when that
// list is set (empty: any guild; serve warns at start).
func (a *Adapter) refusalOf(ix *discordgo.Interaction) string {
	if ix.GuildID == "" {
		if a.cfg.DMs {
			return ""
		}
		return "direct message"
	}
	if len(a.cfg.Guilds) == 0 || slices.Contains(a.cfg.Guilds, ix.GuildID) {
		return ""
	}
	return "guild " + tasks.QuoteInput(ix.GuildID) + " not allowed"
}

// refuse answers an interaction from where day2bot is not allowed with one
// private line (an empty list for autocomplete), logs it and audits it.
// Autocomplete fires on every keystroke: it is neither answered with
// text nor audited.
func (a *Adapter) refuse(ctx context.Context, ix *discordgo.Interaction, why string, respond respondFunc) {
	if ix.Type == discordgo.InteractionApplicationCommandAutocomplete {
		a.logSend(ctx, ix, respond(&discordgo.InteractionResponse{
			Type: discordgo.InteractionApplicationCommandAutocompleteResult,
			Data: &discordgo.InteractionResponseData{Choices: []*discordgo.ApplicationCommandOptionChoice{}},
		}))
		return
	}
	user, _ := userOf(ix)
	a.log.WarnContext(ctx, "discord interaction refused", "reason", why, "user", tasks.QuoteInput(user), "type", int(ix.Type))
	text := notAllowedText
	if ix.GuildID == "" {
		text = noDMsText
	}
	a.logSend(ctx, ix, respond(refusal(text)))
	if a.cfg.Auditor == nil {
		return
	}
	e := store.Entry{At: a.now(), Actor: Name + ":" + user, Kind: store.KindRefused,
		Detail: fmt.Sprintf("discord interaction refused: %s", why)}
	if err := a.cfg.Auditor.Audit(ctx, e); err != nil {
		a.log.ErrorContext(ctx, "audit refused discord interaction", "err", err)
	}
}
