package alerts

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/tasks"
)

// rebootAction stands in for ec2.reboot: mutating, counts its runs.
type rebootAction struct{ runs atomic.Int32 }

func (a *rebootAction) Name() string          { return "test.reboot" }
func (a *rebootAction) Params() []tasks.Param { return nil }
func (a *rebootAction) Mutating() bool        { return true }
func (a *rebootAction) IAMActions() []string  { return []string{"ec2:RebootInstances"} }
func (a *rebootAction) Plan(context.Context, tasks.Invocation) (tasks.Plan, error) {
	return tasks.Plan{Summary: "would reboot"}, nil
}

func (a *rebootAction) Run(context.Context, tasks.Invocation, func(tasks.Progress)) (tasks.Result, error) {
	a.runs.Add(1)
	return tasks.Result{Summary: "rebooted"}, nil
}

type noAWS struct{}

func (noAWS) Config(context.Context, string, string, string) (aws.Config, error) {
	return aws.Config{}, nil
}

// replies records what one presser was told.
type replies struct {
	mu        sync.Mutex
	ephemeral []bot.Message
	public    []bot.Message
}

func (r *replies) Ephemeral(_ context.Context, m bot.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ephemeral = append(r.ephemeral, m)
	return nil
}

func (r *replies) Public(_ context.Context, m bot.Message) (bot.MessageRef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.public = append(r.public, m)
	return bot.MessageRef{Platform: "test", Channel: "ops", ID: "approval-msg"}, nil
}

// TestRemediationClick: the alert's button, pressed, is the typed command
// APP TASK of the presser — a developer's press asks ops for approval, the
// approval runs it once, and someone with no rule is denied.
func TestRemediationClick(t *testing.T) {
	ctx := context.Background()
	app := testApp()
	alarm := app.Name + "-web-cpu-high"
	seedAlarm(t, alarm, "ALARM")
	st := openStore(t, filepath.Join(t.TempDir(), "a.db"))
	if err := st.ImportFile(ctx, "test", policies.File{
		Users:  map[string][]string{"alice": {"test:alice"}, "bob": {"test:bob"}, "eve": {"test:eve"}},
		Groups: map[string][]string{"ops": {"alice"}, "developers": {"bob"}},
		Rules: []policies.Rule{
			{ID: "ops", Effect: policies.Allow, Subjects: []string{"group:ops"}},
			{ID: "dev-changes", Effect: policies.Approve, Subjects: []string{"group:developers"}, Apps: []string{app.Name},
				Approvers: []string{"group:ops"}, Quorum: 1},
		},
	}); err != nil {
		t.Fatal(err)
	}
	act := &rebootAction{}
	reg, err := tasks.NewRegistry(act)
	if err != nil {
		t.Fatal(err)
	}
	p := newRec("test")
	e, err := bot.New(bot.Options{
		Store: st, Registry: reg, AWS: noAWS{}, Platforms: map[string]bot.Platform{"test": p},
		Apps: []bot.App{{Name: app.Name, Channels: app.Channels, Tasks: []bot.Task{{Name: "restart-web", Action: "test.reboot",
			Target: tasks.Selector{Type: "ec2:instance", Tags: map[string]string{"app": app.Name}}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	poll(t, newWatcher(t, app, st, p))
	if len(p.posts) != 1 || len(p.posts[0].Buttons) != 2 || p.posts[0].Buttons[0].Label != "restart-web" {
		t.Fatalf("alert = %+v", p.posts)
	}
	button := p.posts[0].Buttons[0]

	press := func(user, id string) *replies {
		r := &replies{}
		e.HandleAction(ctx, bot.Action{Platform: "test", User: user, Channel: "ops", ButtonID: id, Message: bot.MessageRef{Platform: "test", Channel: "ops", ID: "test-1"}, Reply: r})
		if err := e.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}

	eve := press("eve", button.ID)
	if len(eve.ephemeral) != 1 || !strings.Contains(strings.ToLower(eve.ephemeral[0].Text+eve.ephemeral[0].Title), "denied") {
		t.Errorf("eve (no rule) got %+v / public %+v, want a denial", eve.ephemeral, eve.public)
	}
	bob := press("bob", button.ID)
	if len(bob.public) != 1 {
		t.Fatalf("bob's press posted %d messages, want the approval request; ephemeral: %+v", len(bob.public), bob.ephemeral)
	}
	pend, err := st.PendingApprovals(ctx, app.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(pend) != 1 || pend[0].Task != "restart-web" || pend[0].Requester != "test:bob" || pend[0].RuleID != "dev-changes" {
		t.Fatalf("pending = %+v", pend)
	}
	if act.runs.Load() != 0 {
		t.Fatalf("ran before approval")
	}
	// The buttons come with the plan, an update of the request's message.
	var approve string
	if ups := p.updates["approval-msg"]; len(ups) > 0 {
		for _, b := range ups[len(ups)-1].Buttons {
			if strings.HasPrefix(b.ID, "ap:") {
				approve = b.ID
			}
		}
	}
	if approve == "" {
		t.Fatalf("approval request has no approve button: first post %+v, updates %+v", bob.public[0].Buttons, p.updates["approval-msg"])
	}
	press("alice", approve)
	press("alice", approve) // a second click changes nothing
	if n := act.runs.Load(); n != 1 {
		t.Errorf("runs after approval = %d, want 1", n)
	}
}
