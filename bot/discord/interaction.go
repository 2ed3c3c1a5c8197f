package discord

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/bot"
)

// commandName and optionName define /day2 command:<text>.
const (
	commandName = "day2"
	optionName  = "command"
	// maxChoices and maxChoiceLen are Discord's autocomplete limits.
	maxChoices   = 25
	maxChoiceLen = 100
	// completeTimeout keeps autocomplete inside Discord's 3 s; it is
	// never deferred.
	completeTimeout = 2 * time.Second
)

// respondFunc sends the initial interaction response: as the HTTP response
// body, or through the callback endpoint for the gateway.
type respondFunc func(*discordgo.InteractionResponse) error

// day2Command is the application command registered at start.
func day2Command() *discordgo.ApplicationCommand {
	return &discordgo.ApplicationCommand{
		Name:        commandName,
		Type:        discordgo.ChatApplicationCommand,
		Description: "Run day-2 operations: help, apps, tasks APP, APP TASK k=v …",
		Options: []*discordgo.ApplicationCommandOption{{
			Type:         discordgo.ApplicationCommandOptionString,
			Name:         optionName,
			Description:  "What to do, e.g. `shop restart-web batch=2` or `help`",
			Required:     false,
			Autocomplete: true,
			MaxLength:    2000,
		}},
	}
}

// dispatch answers one verified interaction. It returns once the initial
// response was sent; the engine may still be working on later answers.
func (a *Adapter) dispatch(ctx context.Context, e Engine, ix *discordgo.Interaction, respond respondFunc) {
	if user, _ := userOf(ix); user == "" && ix.Type != discordgo.InteractionPing {
		// Policies key on the user; an interaction without one is refused.
		a.logSend(ctx, ix, respond(refusal("day2bot cannot tell who sent this.")))
		return
	}
	if ix.Type != discordgo.InteractionPing {
		if why := a.refusalOf(ix); why != "" {
			a.refuse(ctx, ix, why, respond)
			return
		}
	}
	switch ix.Type {
	case discordgo.InteractionPing:
		a.logSend(ctx, ix, respond(&discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong}))
	case discordgo.InteractionApplicationCommandAutocomplete:
		a.logSend(ctx, ix, respond(a.autocomplete(ctx, e, ix)))
	case discordgo.InteractionApplicationCommand:
		data, _ := ix.Data.(discordgo.ApplicationCommandInteractionData)
		a.command(ctx, e, ix, respond, commandText(data))
	case discordgo.InteractionMessageComponent:
		data, _ := ix.Data.(discordgo.MessageComponentInteractionData)
		if ix.Message == nil || data.CustomID == "" {
			a.logSend(ctx, ix, respond(refusal("This button is not one of mine.")))
			return
		}
		user, name := userOf(ix)
		a.serve(ctx, ix, respond, func(ctx context.Context, c *call) {
			e.HandleAction(ctx, bot.Action{
				Platform: Name, Team: ix.GuildID, User: user, UserName: name,
				Channel: ix.ChannelID, ButtonID: data.CustomID,
				Message: bot.MessageRef{Platform: Name, Channel: ix.ChannelID, ID: ix.Message.ID},
				Reply:   c,
			})
		})
	case discordgo.InteractionModalSubmit:
		f, values, ok := submittedForm(ix)
		if !ok {
			a.logSend(ctx, ix, respond(refusal("This form is not one of mine.")))
			return
		}
		if resp := formProblems(e, f, values); resp != nil {
			a.logSend(ctx, ix, respond(resp))
			return
		}
		a.command(ctx, e, ix, respond, bot.FormCommand(f, values)) // a submitted form is the typed command
	default:
		a.logSend(ctx, ix, respond(refusal("day2bot does not handle this kind of interaction.")))
	}
}

// command hands text to the engine as what ix's user typed in its channel.
func (a *Adapter) command(ctx context.Context, e Engine, ix *discordgo.Interaction, respond respondFunc, text string) {
	user, name := userOf(ix)
	a.serve(ctx, ix, respond, func(ctx context.Context, c *call) {
		e.HandleCommand(ctx, bot.Command{
			Platform: Name, Team: ix.GuildID, User: user, UserName: name,
			Channel: ix.ChannelID, Text: text, Reply: c,
		})
	})
}

// serve hands the interaction to the engine and sends whichever comes
// first: the engine's first answer, or a deferral at AckTimeout.
func (a *Adapter) serve(ctx context.Context, ix *discordgo.Interaction, respond respondFunc, run func(context.Context, *call)) {
	c := newCall(a, ix)
	// The engine outlives the HTTP request that brought the interaction.
	ectx := context.WithValue(context.WithoutCancel(ctx), callKey{}, c)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				a.log.ErrorContext(ectx, "discord interaction handler panicked", "interaction", ix.ID, "panic", p, "stack", string(debug.Stack()))
				_ = c.Ephemeral(ectx, bot.Message{Text: "failed — internal error, see logs", Tone: bot.ToneDanger})
			}
		}()
		run(ectx, c)
	}()
	timer := time.NewTimer(a.cfg.AckTimeout)
	defer timer.Stop()
	var resp *discordgo.InteractionResponse
	select {
	case resp = <-c.first:
	case <-timer.C:
		resp = c.deferNow()
	}
	err := respond(resp)
	c.ack(resp, err)
	a.logSend(ctx, ix, err)
}

func (a *Adapter) logSend(ctx context.Context, ix *discordgo.Interaction, err error) {
	if err != nil {
		a.log.ErrorContext(ctx, "discord interaction response failed", "interaction", ix.ID, "type", int(ix.Type), "err", err)
	}
}

// autocomplete answers with the engine's completions of what the user has
// typed so far, within Discord's 25 choices of 100 characters.
func (a *Adapter) autocomplete(ctx context.Context, e Engine, ix *discordgo.Interaction) *discordgo.InteractionResponse {
	data, _ := ix.Data.(discordgo.ApplicationCommandInteractionData)
	user, _ := userOf(ix)
	ctx, cancel := context.WithTimeout(ctx, completeTimeout)
	defer cancel()
	done := make(chan []string, 1)
	go func() { done <- e.Complete(ctx, Name+":"+user, partialText(data)) }()
	var got []string
	select {
	case got = <-done:
	case <-ctx.Done():
		a.log.WarnContext(ctx, "discord autocomplete timed out", "interaction", ix.ID)
	}
	choices := []*discordgo.ApplicationCommandOptionChoice{}
	for _, s := range got {
		if len(choices) == maxChoices {
			break
		}
		if s == "" || len([]rune(s)) > maxChoiceLen {
			continue // a cut completion would run something else
		}
		choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: s, Value: s})
	}
	return &discordgo.InteractionResponse{
		Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: choices},
	}
}

// commandText is the /day2 command option, as typed.
func commandText(d discordgo.ApplicationCommandInteractionData) string {
	return strings.TrimSpace(optionText(d))
}

// partialText is the command option being typed, for autocomplete: its
// trailing space is kept, since "shop " asks for shop's tasks and "shop"
// for the words starting with shop.
func partialText(d discordgo.ApplicationCommandInteractionData) string {
	return strings.TrimLeft(optionText(d), " \t")
}

func optionText(d discordgo.ApplicationCommandInteractionData) string {
	for _, o := range d.Options {
		if o == nil || o.Name != optionName {
			continue
		}
		if s, ok := o.Value.(string); ok {
			return s
		}
		return fmt.Sprint(o.Value)
	}
	return ""
}

// userOf is the invoking user: Member.User in a guild, User in a DM.
func userOf(ix *discordgo.Interaction) (id, name string) {
	u := ix.User
	if ix.Member != nil && ix.Member.User != nil {
		u = ix.Member.User
	}
	if u == nil {
		return "", ""
	}
	name = u.GlobalName
	if name == "" {
		name = u.Username
	}
	return u.ID, name
}

func refusal(text string) *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: render(bot.Message{Text: text}).responseData(true),
	}
}
