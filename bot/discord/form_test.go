package discord

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/bot"
)

// A command that asks for a form gets a modal as its initial response:
// one text input per parameter within Discord's limits; its submission,
// signed like every interaction, reaches the engine as the typed command.
func TestFormIsAModalAndItsSubmissionTheCommand(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	got := make(chan bot.Command, 2)
	form := bot.Form{App: "lab", Task: "revoke-access", Title: "lab revoke-access — take a visitor's access away again",
		Fields: []bot.FormField{
			{Name: "bucket", Label: "bucket", Kind: bot.FieldChoice, Required: true, Hint: "one of the app's buckets"},
			{Name: "mode", Label: "mode", Kind: bot.FieldSelect, Options: []string{"read", "write"}, Initial: "read"},
		}}
	e := &scriptedEngine{command: func(ctx context.Context, cmd bot.Command) {
		got <- cmd
		if cmd.Text == "lab revoke-access" {
			if err := cmd.Reply.(bot.FormOpener).OpenForm(ctx, form); err != nil {
				t.Errorf("OpenForm: %v", err)
			}
			return
		}
		_ = cmd.Reply.Ephemeral(ctx, bot.Message{Text: "queued"})
	}}
	h := endpoint(t, a, e)
	resp, _ := fake.Interact(h, interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "lab revoke-access"})
	if resp.Type != discordgo.InteractionResponseModal {
		t.Fatalf("response type %d, want 9 (modal)", resp.Type)
	}
	var modal struct {
		CustomID   string `json:"custom_id"`
		Title      string `json:"title"`
		Components []struct {
			Type       int `json:"type"`
			Components []struct {
				Type        int    `json:"type"`
				CustomID    string `json:"custom_id"`
				Label       string `json:"label"`
				Placeholder string `json:"placeholder"`
				Value       string `json:"value"`
				Required    bool   `json:"required"`
			} `json:"components"`
		} `json:"components"`
	}
	if err := json.Unmarshal(resp.RawData, &modal); err != nil {
		t.Fatal(err)
	}
	if modal.CustomID != "day2-form:lab:revoke-access" || len([]rune(modal.Title)) > 45 || !strings.HasPrefix(modal.Title, "lab revoke-access") || len(modal.Components) != 2 {
		t.Fatalf("modal %s", resp.RawData)
	}
	bucket, mode := modal.Components[0].Components[0], modal.Components[1].Components[0]
	if modal.Components[0].Type != 1 || bucket.Type != 4 || bucket.CustomID != "bucket" || !bucket.Required || bucket.Placeholder != "one of the app's buckets" {
		t.Errorf("bucket input %+v", bucket)
	}
	if mode.CustomID != "mode" || mode.Required || mode.Value != "read" || mode.Placeholder != "one of: read, write" {
		t.Errorf("mode input %+v", mode)
	}
	<-got

	resp, _ = fake.Interact(h, interaction{Type: discordgo.InteractionModalSubmit, User: "111", Channel: "c1", Button: modal.CustomID,
		Fields: []string{"bucket", "mode"}, Inputs: map[string]string{"bucket": "lab-carol-trials", "mode": "write once"}})
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Content != "queued" {
		t.Fatalf("submission answered %d %+v", resp.Type, resp.Data)
	}
	if cmd := <-got; cmd.Text != `lab revoke-access bucket=lab-carol-trials mode="write once"` || cmd.Principal() != "discord:111" || cmd.Channel != "c1" {
		t.Errorf("submitted command %+v", cmd)
	}

	// Another modal's submission is refused, not run.
	resp, _ = fake.Interact(h, interaction{Type: discordgo.InteractionModalSubmit, User: "111", Channel: "c1", Button: "someone-else:x",
		Fields: []string{"a"}, Inputs: map[string]string{"a": "1"}})
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || !strings.Contains(resp.Data.Content, "not one of mine") || len(got) != 0 {
		t.Errorf("foreign modal answered %d %+v", resp.Type, resp.Data)
	}
}

// Discord allows a modal only as the first answer and with five inputs at
// most; OpenForm says so instead of sending what Discord would reject.
func TestFormLimits(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	six := bot.Form{App: "lab", Task: "t"}
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		six.Fields = append(six.Fields, bot.FormField{Name: n, Label: n})
	}
	errs := make(chan error, 2)
	e := &scriptedEngine{command: func(ctx context.Context, cmd bot.Command) {
		fo := cmd.Reply.(bot.FormOpener)
		if fl, ok := cmd.Reply.(bot.FormLimit); !ok || fl.MaxFormFields() != 5 {
			t.Errorf("the responder does not say it holds 5 fields")
		}
		errs <- fo.OpenForm(ctx, six)
		_ = cmd.Reply.Ephemeral(ctx, bot.Message{Text: "type it instead"})
		errs <- fo.OpenForm(ctx, bot.Form{App: "lab", Task: "t", Fields: six.Fields[:1]})
	}}
	resp, _ := fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "lab t"})
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Content != "type it instead" {
		t.Fatalf("response %d %+v", resp.Type, resp.Data)
	}
	if err := <-errs; err == nil || !strings.Contains(err.Error(), "6 fields") {
		t.Errorf("six fields: %v", err)
	}
	if err := <-errs; err == nil || !strings.Contains(err.Error(), "already answered") {
		t.Errorf("after an answer: %v", err)
	}
}

// checkingEngine is scriptedEngine with the engine's form check.
type checkingEngine struct {
	*scriptedEngine
	check func(app, task string, values map[string]string) map[string]string
}

func (c checkingEngine) CheckForm(app, task string, values map[string]string) map[string]string {
	return c.check(app, task, values)
}

// Discord cannot show problems inside a modal: a submission the engine's
// check refuses is answered with every problem at once, in the form's
// order, and nothing reaches the engine as a command.
func TestFormProblemsAnsweredAllAtOnce(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	ran := make(chan bot.Command, 1)
	e := checkingEngine{scriptedEngine: &scriptedEngine{command: func(_ context.Context, cmd bot.Command) { ran <- cmd }},
		check: func(app, task string, values map[string]string) map[string]string {
			if app != "shop" || task != "scale" {
				t.Errorf("checked %s %s", app, task)
			}
			return map[string]string{"wait": "wait must be a duration like 10m, got \"soon\"", "desired": "desired must be between 1 and 8, got 40"}
		}}
	resp, _ := fake.Interact(endpoint(t, a, e), interaction{Type: discordgo.InteractionModalSubmit, User: "111", Channel: "c1",
		Button: "day2-form:shop:scale", Fields: []string{"desired", "wait"}, Inputs: map[string]string{"desired": "40", "wait": "soon"}})
	want := "Nothing ran: 2 value(s) of shop scale to fix, then run it again.\n• desired must be between 1 and 8, got 40\n• wait must be a duration like 10m, got \"soon\""
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Flags != discordgo.MessageFlagsEphemeral || resp.Data.Content != want {
		t.Errorf("answer %d flags %d:\n%s\nwant\n%s", resp.Type, resp.Data.Flags, resp.Data.Content, want)
	}
	select {
	case cmd := <-ran:
		t.Errorf("the refused form ran %q", cmd.Text)
	default:
	}
}
