package discord

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/bwmarrin/discordgo"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store/sqlite"
	"github.com/day2bot/day2bot/tasks"
)

// rebootAction stands in for an AWS action: the story is about the chat
// side, and counting runs proves "exactly one run".
type rebootAction struct{ runs atomic.Int32 }

func (*rebootAction) Name() string          { return "test.reboot" }
func (*rebootAction) Params() []tasks.Param { return nil }
func (*rebootAction) Mutating() bool        { return true }
func (*rebootAction) IAMActions() []string  { return []string{"ec2:RebootInstances"} }
func (*rebootAction) Plan(context.Context, tasks.Invocation) (tasks.Plan, error) {
	return tasks.Plan{Summary: "reboot 2 instances", Changes: []tasks.Change{{Resource: "i-1", Action: "reboot"}, {Resource: "i-2", Action: "reboot"}}}, nil
}

func (a *rebootAction) Run(context.Context, tasks.Invocation, func(tasks.Progress)) (tasks.Result, error) {
	a.runs.Add(1)
	return tasks.Result{Summary: "rebooted 2 instances", Resources: []tasks.ResourceResult{
		{Resource: "i-1", Status: tasks.StatusOK}, {Resource: "i-2", Status: tasks.StatusOK},
	}}, nil
}

type noAWS struct{}

func (noAWS) Config(context.Context, string, string, string) (aws.Config, error) {
	return aws.Config{Region: "eu-west-1"}, nil
}

// newStoryEngine builds the real engine on a real SQLite file with the
// adapter as its Discord platform.
func newStoryEngine(t *testing.T, a *Adapter, act *rebootAction) *bot.Engine {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "day2bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	err = st.ImportFile(ctx, "test", policies.File{
		Users:  map[string][]string{"alice": {"discord:111"}, "bob": {"discord:222"}},
		Groups: map[string][]string{"sre": {"bob"}},
		Rules: []policies.Rule{
			{ID: "no-scale", Effect: policies.Deny, Subjects: []string{"*"}, Apps: []string{"shop"}, Tasks: []string{"scale"}},
			{ID: "restart-needs-sre", Effect: policies.Approve, Subjects: []string{"*"}, Apps: []string{"shop"},
				Tasks: []string{"restart-web"}, Approvers: []string{"group:sre"}, Quorum: 1},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := tasks.NewRegistry(act)
	if err != nil {
		t.Fatal(err)
	}
	e, err := bot.New(bot.Options{
		Store:    st,
		Registry: reg,
		AWS:      noAWS{},
		Apps: []bot.App{{Name: "shop", Region: "eu-west-1", Tasks: []bot.Task{
			{Name: "restart-web", Action: "test.reboot", Target: tasks.Selector{Type: "ec2:instance"}},
			{Name: "scale", Action: "test.reboot", Target: tasks.Selector{Type: "ec2:instance"}},
		}}},
		Platforms: map[string]bot.Platform{Name: a},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// The same story as Slack's: a denial is ephemeral; an approval request is
// posted with buttons; the requester's own click is refused; the
// approver's click updates the message, and the result lands in it — with
// exactly one run.
func TestApprovalStoryWithEngine(t *testing.T) {
	fake := newFakeDiscord(t)
	a := newTestAdapter(t, fake.APIURL())
	act := &rebootAction{}
	url := endpoint(t, a, newStoryEngine(t, a, act))

	// 1. Denied: answered at once, only to alice.
	resp, _ := fake.Interact(url, interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "shop scale"})
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Flags != discordgo.MessageFlagsEphemeral {
		t.Fatalf("denial: type %d flags %d, want ephemeral 4", resp.Type, resp.Data.Flags)
	}
	if !strings.Contains(strings.ToLower(flatten(resp.Data.Message)), "no-scale") {
		t.Errorf("denial does not name the rule: %s", flatten(resp.Data.Message))
	}

	// 2. Approval request: public, first without buttons; Approve/Deny
	// come with the plan, which the engine adds once computed.
	resp, token := fake.Interact(url, interaction{Type: discordgo.InteractionApplicationCommand, User: "111", Channel: "c1", Text: "shop restart-web"})
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Flags != 0 {
		t.Fatalf("approval request: type %d flags %d, want public 4", resp.Type, resp.Data.Flags)
	}
	if b := buttonIDs(resp.Data.Message); len(b) != 0 {
		t.Fatalf("approval request has buttons %v before its plan", b)
	}
	fake.mu.Lock()
	msgID := fake.original[token]
	fake.mu.Unlock()
	fake.waitFor("the plan in the approval message", func() bool {
		return strings.Contains(flatten(fake.message(msgID).Msg), "reboot 2 instances")
	})
	buttons := buttonIDs(fake.message(msgID).Msg)
	if len(buttons) < 2 {
		t.Fatalf("approval request with its plan has buttons %v", buttons)
	}
	approve := buttons[0]

	// 3. Alice may not approve her own request.
	resp, _ = fake.Interact(url, interaction{Type: discordgo.InteractionMessageComponent, User: "111", Channel: "c1", Message: msgID, Button: approve})
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data.Flags != discordgo.MessageFlagsEphemeral {
		t.Fatalf("self-approval: type %d flags %d, want ephemeral refusal", resp.Type, resp.Data.Flags)
	}
	if !strings.Contains(flatten(resp.Data.Message), "own request") {
		t.Errorf("refusal says %q", flatten(resp.Data.Message))
	}

	// 4. Bob approves: the click's response is the updated message.
	resp, clickToken := fake.Interact(url, interaction{Type: discordgo.InteractionMessageComponent, User: "222", Channel: "c1", Message: msgID, Button: approve})
	if resp.Type != discordgo.InteractionResponseUpdateMessage {
		t.Fatalf("approver's click: type %d, want 7 UPDATE_MESSAGE; %s", resp.Type, resp.RawData)
	}
	if len(buttonIDs(resp.Data.Message)) != 0 {
		t.Errorf("approved message still has buttons: %s", resp.RawData)
	}

	// 5. The run's result replaces the message, through the click's webhook.
	fake.waitFor("the run result in the approval message", func() bool {
		m := fake.message(msgID)
		return m != nil && strings.Contains(flatten(m.Msg), "rebooted 2 instances")
	})
	if n := act.runs.Load(); n != 1 {
		t.Errorf("%d runs, want exactly 1", n)
	}
	if len(fake.callsTo("PATCH", "/webhooks/app1/"+clickToken+"/messages/@original")) == 0 {
		t.Errorf("result did not go through the click's webhook: %s", fake.describeCalls())
	}
	// A late second click finds the approval decided.
	resp, _ = fake.Interact(url, interaction{Type: discordgo.InteractionMessageComponent, User: "222", Channel: "c1", Message: msgID, Button: approve})
	if resp.Data == nil || resp.Data.Flags != discordgo.MessageFlagsEphemeral {
		t.Errorf("second click: %s", resp.RawData)
	}
	if n := act.runs.Load(); n != 1 {
		t.Errorf("%d runs after a second click, want 1", n)
	}
}

// flatten is the visible text of a message: content and embeds.
func flatten(m discordgo.Message) string {
	var b strings.Builder
	b.WriteString(m.Content)
	for _, e := range m.Embeds {
		b.WriteString("\n" + e.Title + "\n" + e.Description)
		for _, f := range e.Fields {
			b.WriteString("\n" + f.Name + ": " + f.Value)
		}
		if e.Footer != nil {
			b.WriteString("\n" + e.Footer.Text)
		}
	}
	return b.String()
}

func buttonIDs(m discordgo.Message) []string {
	var ids []string
	for _, c := range m.Components {
		row, ok := c.(*discordgo.ActionsRow)
		if !ok {
			continue
		}
		for _, b := range row.Components {
			if btn, ok := b.(*discordgo.Button); ok {
				ids = append(ids, btn.CustomID)
			}
		}
	}
	return ids
}
