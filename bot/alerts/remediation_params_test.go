package alerts

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
	tasksaws "github.com/day2bot/day2bot/tasks/aws"
)

// emuAWS hands the engine the emulator's config for any app and principal.
type emuAWS struct{}

func (emuAWS) Config(_ context.Context, _, region, principal string) (awssdk.Config, error) {
	return emu.ClientConfig(region, "AKIDALERTS"), nil
}

// TestParameterisedRemediationClick: a remediation with prefilled values
// (mute-alarm alarm={alarm} duration=1h) is a button too, even for an alarm
// name far longer than a button id may be. A developer's press asks ops for
// approval with those values, the approval runs the real mute-alarm once
// against the emulator on that alarm, and someone with no rule is denied.
func TestParameterisedRemediationClick(t *testing.T) {
	ctx := context.Background()
	app := testApp()
	alarm := app.Name + "-web-" + strings.Repeat("very-long-alarm-name-", 10) + "cpu-high"
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
	reg, err := tasks.NewRegistry(tasksaws.CloudWatchActions(tasksaws.SDKCloudWatch)...)
	if err != nil {
		t.Fatal(err)
	}
	mute, _ := reg.Lookup("cloudwatch.mute-alarm")
	p := newRec("test")
	e, err := bot.New(bot.Options{
		Store: st, Registry: reg, AWS: emuAWS{}, Platforms: map[string]bot.Platform{"test": p},
		Apps: []bot.App{{Name: app.Name, Region: app.Region, Channels: app.Channels, Tasks: []bot.Task{{
			Name: "mute-alarm", Action: "cloudwatch.mute-alarm", Params: mute.Params(),
			Target: tasks.Selector{Type: "cloudwatch:alarm", Names: []string{app.Name + "-*"}},
		}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	poll(t, newWatcher(t, app, st, p))
	if len(p.posts) != 1 {
		t.Fatalf("alert = %+v", p.posts)
	}
	var button bot.Button
	for _, b := range p.posts[0].Buttons {
		if len(b.ID) > maxButtonID {
			t.Errorf("button id %q is %d bytes, over %d", b.ID, len(b.ID), maxButtonID)
		}
		if b.Label == "mute-alarm" {
			button = b
		}
	}
	if !strings.HasPrefix(button.ID, ActionButtonPrefix) {
		t.Fatalf("no mute-alarm button: %+v", p.posts[0].Buttons)
	}
	if ctxt := strings.Join(p.posts[0].Context, "\n"); !strings.Contains(ctxt, "mute-alarm runs `"+app.Name+" mute-alarm alarm="+alarm+" duration=1h`") {
		t.Errorf("the alert does not say what the button runs:\n%s", ctxt)
	}

	press := func(user, id string) *replies {
		r := &replies{}
		e.HandleAction(ctx, bot.Action{Platform: "test", User: user, Channel: "ops", ButtonID: id, Message: bot.MessageRef{Platform: "test", Channel: "ops", ID: "test-1"}, Reply: r})
		if err := e.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	disables := func() int {
		n := 0
		for _, r := range emu.Requests("monitoring:DisableAlarmActions") {
			if strings.Contains(string(r.Body), alarm) {
				n++
			}
		}
		return n
	}

	eve := press("eve", button.ID)
	if len(eve.ephemeral) != 1 || len(eve.public) != 0 || !strings.Contains(strings.ToLower(eve.ephemeral[0].Text+eve.ephemeral[0].Title), "denied") {
		t.Errorf("eve (no rule) got %+v / public %+v, want a private denial", eve.ephemeral, eve.public)
	}
	bob := press("bob", button.ID)
	if len(bob.public) != 1 {
		t.Fatalf("bob's press posted %d messages, want the approval request; ephemeral: %+v", len(bob.public), bob.ephemeral)
	}
	pend, err := st.PendingApprovals(ctx, app.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(pend) != 1 || pend[0].Task != "mute-alarm" || pend[0].Requester != "test:bob" || pend[0].RuleID != "dev-changes" ||
		pend[0].Params["alarm"] != alarm || pend[0].Params["duration"] != "1h" {
		t.Fatalf("pending = %+v", pend)
	}
	if n := disables(); n != 0 {
		t.Fatalf("muted before approval (%d calls)", n)
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
	if n := disables(); n != 1 {
		t.Errorf("DisableAlarmActions calls for the alarm = %d, want 1", n)
	}
	out, err := cw().DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{alarm}})
	if err != nil || len(out.MetricAlarms) != 1 || awssdk.ToBool(out.MetricAlarms[0].ActionsEnabled) {
		t.Fatalf("alarm after the run = %+v, %v; want actions disabled", out.MetricAlarms, err)
	}
	runs, err := st.Runs(ctx, store.RunFilter{App: app.Name})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Principal != "test:bob" || runs[0].Params["alarm"] != alarm || runs[0].Params["duration"] != "1h" ||
		len(runs[0].Approvers) != 1 || runs[0].Approvers[0] != "test:alice" {
		t.Errorf("runs = %+v", runs)
	}
}
