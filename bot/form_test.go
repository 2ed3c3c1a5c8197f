package bot_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/day2bot/day2bot/bot"
)

// CheckForm answers field by field with the messages a typed command
// would get, so a form can show each under its field; an empty field
// keeps the default, and names it does not know are not its to judge.
func TestCheckForm(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name      string
		app, task string
		values    map[string]string
		want      map[string]string
	}{
		{"valid", "shop", "restart-web", map[string]string{"batch": "2"}, map[string]string{}},
		{"empty keeps the default", "shop", "restart-web", map[string]string{"batch": "  "}, map[string]string{}},
		{"out of range", "shop", "restart-web", map[string]string{"batch": "9"},
			map[string]string{"batch": "batch must be between 1 and 4, got 9"}},
		{"not a number", "shop", "restart-web", map[string]string{"batch": "two"},
			map[string]string{"batch": `batch must be a whole number between 1 and 4, got "two"`}},
		{"unknown app", "nope", "restart-web", map[string]string{"batch": "9"}, nil},
		{"unknown task", "shop", "nope", map[string]string{"batch": "9"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := h.Engine.CheckForm(tt.app, tt.task, tt.values)
			if !maps.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("CheckForm = %q, want %q", got, tt.want)
			}
		})
	}
}

// formReply is a responder that can show forms holding up to limit fields.
type formReply struct {
	recorder
	limit  int
	opened []bot.Form
}

func (r *formReply) OpenForm(_ context.Context, f bot.Form) error {
	r.opened = append(r.opened, f)
	return nil
}

func (r *formReply) MaxFormFields() int { return r.limit }

// A platform whose forms hold fewer fields than a task has parameters
// (Discord's modals: five) gets no Run… button and no form for that task;
// the command is answered as typed instead.
func TestFormsOnlyWhereTheyFit(t *testing.T) {
	h := newHarness(t)
	runButtons := func(limit int) []string {
		r := &formReply{limit: limit}
		h.Engine.HandleCommand(h.Ctx, bot.Command{Platform: "shell", User: "alice", Channel: "ops", Text: "tasks shop", Reply: r})
		var labels []string
		for _, m := range r.ephemeral {
			for _, b := range m.Buttons {
				labels = append(labels, b.Label)
			}
		}
		return labels
	}
	if got := runButtons(5); !slices.Contains(got, "Run restart-web…") {
		t.Errorf("forms of 5 fields: buttons %q, want Run restart-web…", got)
	}
	if got := runButtons(0); slices.Contains(got, "Run restart-web…") {
		t.Errorf("forms of 0 fields: buttons %q, want no Run restart-web…", got)
	}
	for _, limit := range []int{5, 0} {
		r := &formReply{limit: limit}
		h.Engine.HandleAction(h.Ctx, bot.Action{Platform: "shell", User: "alice", Channel: "ops", ButtonID: "fm:shop:restart-web", Reply: r})
		if opened := len(r.opened) == 1; opened != (limit > 0) {
			t.Errorf("limit %d: opened %d forms, answered %+v", limit, len(r.opened), r.ephemeral)
		}
	}
}
