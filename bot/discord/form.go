package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/bot"
)

// Forms on Discord are modals: a task's parameters as text inputs, opened
// as the initial response to the command or click that asked for them
// (Discord allows a modal nowhere else). The submission comes back as a
// MODAL_SUBMIT interaction and is handled as the typed command, through
// the same validation, policy and approval; unlike Slack, Discord cannot
// show errors inside the modal, so a refused value is answered as a
// message.

// modalPrefix starts a day2bot modal's custom_id: "day2-form:APP:TASK".
const modalPrefix = "day2-form:"

// Discord's limits on modals.
const (
	maxModalInputs = 5
	maxModalTitle  = 45
	maxInputLabel  = 45
	maxPlaceholder = 100
	maxInputValue  = 4000
	maxModalCustom = 100
	optionsHint    = "one of: "
)

var (
	_ bot.FormOpener = (*call)(nil)
	_ bot.FormLimit  = (*call)(nil)
)

// MaxFormFields tells the engine how many parameters a modal can hold, so
// it offers forms only for tasks that fit.
func (c *call) MaxFormFields() int { return maxModalInputs }

// OpenForm implements bot.FormOpener: the modal becomes this interaction's
// initial response.
func (c *call) OpenForm(ctx context.Context, f bot.Form) error {
	id := modalPrefix + f.App + ":" + f.Task
	switch {
	case len(f.Fields) == 0 || len(f.Fields) > maxModalInputs:
		return fmt.Errorf("open discord form: %d fields, a modal holds 1 to %d", len(f.Fields), maxModalInputs)
	case len(id) > maxModalCustom:
		return fmt.Errorf("open discord form: custom id of %d bytes, over %d", len(id), maxModalCustom)
	case c.ix.Type == discordgo.InteractionModalSubmit:
		return errors.New("open discord form: a modal cannot answer a modal")
	}
	c.mu.Lock()
	if c.state != waiting {
		c.mu.Unlock()
		return errors.New("open discord form: the interaction was already answered")
	}
	c.state = answered
	c.mu.Unlock()
	rows := make([]discordgo.MessageComponent, 0, len(f.Fields))
	for _, fd := range f.Fields {
		rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.TextInput{
			CustomID:    fd.Name,
			Label:       truncate(fd.Label, maxInputLabel),
			Style:       discordgo.TextInputShort,
			Placeholder: truncate(fieldHint(fd), maxPlaceholder),
			Value:       truncate(fd.Initial, maxInputValue),
			Required:    fd.Required,
			MaxLength:   maxInputValue,
		}}})
	}
	c.first <- &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: &discordgo.InteractionResponseData{
		CustomID: id, Title: truncate(f.Title, maxModalTitle), Components: rows,
	}}
	return c.waitAck(ctx)
}

// fieldHint is what a text input shows while empty: the choices of a
// select (a modal has no select here), else the parameter's description.
func fieldHint(fd bot.FormField) string {
	if len(fd.Options) > 0 {
		return optionsHint + strings.Join(fd.Options, ", ")
	}
	return fd.Hint
}

// FormChecker is the engine's check of a form's values, field by field
// (bot.Engine.CheckForm). Discord cannot show the problems inside the
// modal, so a submission with any is answered with all of them at once
// instead of running and stopping at the first.
type FormChecker interface {
	CheckForm(app, task string, values map[string]string) map[string]string
}

// formProblems is the answer to a submission the engine finds wrong, field
// by field in the form's order; nil when there is nothing to fix.
func formProblems(e Engine, f bot.Form, values map[string]string) *discordgo.InteractionResponse {
	fc, ok := e.(FormChecker)
	if !ok {
		return nil
	}
	problems := fc.CheckForm(f.App, f.Task, values)
	if len(problems) == 0 {
		return nil
	}
	lines := []string{fmt.Sprintf("Nothing ran: %d value(s) of %s %s to fix, then run it again.", len(problems), f.App, f.Task)}
	for _, fd := range f.Fields {
		if msg, bad := problems[fd.Name]; bad {
			lines = append(lines, "• "+msg) // the message names its parameter
		}
	}
	return refusal(strings.Join(lines, "\n"))
}

// submittedForm reads a MODAL_SUBMIT of a day2bot modal: the form (app,
// task and its fields in order) and the values; ok is false for any other
// modal.
func submittedForm(ix *discordgo.Interaction) (f bot.Form, values map[string]string, ok bool) {
	data, _ := ix.Data.(discordgo.ModalSubmitInteractionData)
	rest, found := strings.CutPrefix(data.CustomID, modalPrefix)
	app, task, split := strings.Cut(rest, ":")
	if !found || !split || app == "" || task == "" {
		return bot.Form{}, nil, false
	}
	f = bot.Form{App: app, Task: task}
	values = map[string]string{}
	for _, c := range data.Components {
		row, isRow := c.(*discordgo.ActionsRow)
		if !isRow {
			continue
		}
		for _, in := range row.Components {
			if ti, isInput := in.(*discordgo.TextInput); isInput && ti.CustomID != "" {
				f.Fields = append(f.Fields, bot.FormField{Name: ti.CustomID})
				values[ti.CustomID] = ti.Value
			}
		}
	}
	return f, values, true
}
