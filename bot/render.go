package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// The messages the engine sends, built once as neutral values; the
// adapters render them.

// maxRows is how many result rows a message shows before the rest goes to
// an attachment: chat tables longer than that are unreadable.
const maxRows = 20

// Button id prefixes. IDs stay well under Discord's 100 bytes.
const (
	buttonApprove     = "ap:"
	buttonDeny        = "dn:"
	buttonRemediation = "rm:"
	// buttonAlertAction is "ra:ID:INDEX", an alert's remediation with its
	// parameters, kept in the store (AlertActions).
	buttonAlertAction = "ra:"
	// buttonRetry is "rt:RUN": the run's command again, as the presser's.
	buttonRetry = "rt:"
)

func taskTitle(app, task string) string { return app + " " + task }

func runContext(r store.Run) []string {
	ctx := []string{"run " + r.ID + " · requested by " + who(r.Handle, r.Principal)}
	if len(r.Approvers) > 0 {
		ctx = append(ctx, "approved by "+strings.Join(r.Approvers, ", "))
	}
	if r.DryRun {
		ctx = append(ctx, "dry run: nothing was changed")
	}
	return ctx
}

func who(handle, principal string) string {
	if handle != "" {
		return handle
	}
	return principal
}

func queuedMessage(r store.Run) Message {
	verb := "queued"
	if r.DryRun {
		verb = "dry run queued"
	}
	return Message{
		Title:   taskTitle(r.App, r.Task) + " — " + verb,
		Fields:  []Field{{"Parameters", formatParams(r.Params)}},
		Context: runContext(r),
	}
}

func runningMessage(r store.Run, p *tasks.Progress) Message {
	m := Message{
		Title:   taskTitle(r.App, r.Task) + " — running",
		Fields:  []Field{{"Parameters", formatParams(r.Params)}},
		Context: runContext(r),
	}
	if p != nil {
		text := p.Message
		if p.Total > 0 {
			text = strings.TrimSpace(fmt.Sprintf("%d of %d done. %s", p.Done, p.Total, p.Message))
		}
		m.Text = text
	}
	return m
}

// resultMessage reports a finished run with its per-resource table; rows
// past maxRows go to an attached file.
func resultMessage(r store.Run, res tasks.Result, state store.State) Message {
	m := Message{
		Title:   taskTitle(r.App, r.Task) + " — " + string(state),
		Text:    res.Summary,
		Fields:  []Field{{"Parameters", formatParams(r.Params)}},
		Context: runContext(r),
		Tone:    ToneSuccess,
	}
	switch {
	case state != store.Succeeded:
		m.Tone = ToneDanger
	case res.Failed() > 0:
		m.Tone = ToneWarning
		m.Title = taskTitle(r.App, r.Task) + " — partly failed"
	}
	if len(res.Resources) == 0 {
		return m
	}
	t := &Table{Columns: []string{"Resource", "Status", "Detail"}}
	for _, rr := range res.Resources {
		t.Rows = append(t.Rows, []string{rr.Resource, string(rr.Status), rr.Detail})
	}
	if len(t.Rows) > maxRows {
		var full strings.Builder
		for _, row := range t.Rows {
			full.WriteString(strings.Join(row, "\t") + "\n")
		}
		m.Attachment = &File{Name: r.ID + "-result.tsv", Content: []byte("resource\tstatus\tdetail\n" + full.String()), Type: "text/tab-separated-values"}
		m.Context = append(m.Context, fmt.Sprintf("… %d more, attached as a file", len(t.Rows)-maxRows))
		t.Rows = t.Rows[:maxRows]
	}
	m.Table = t
	return m
}

// planMessage is a dry run's result; confirm is the task's blueprint
// warning, if any.
func planMessage(r store.Run, p tasks.Plan, confirm string) Message {
	m := Message{
		Title:   taskTitle(r.App, r.Task) + " — plan",
		Text:    p.Summary,
		Fields:  []Field{{"Parameters", formatParams(r.Params)}},
		Context: runContext(r),
	}
	if confirm != "" {
		m.Fields = append(m.Fields, Field{"Impact", confirm})
	}
	m.Table = planTable(&p)
	return m
}

func planTable(p *tasks.Plan) *Table {
	if p == nil || len(p.Changes) == 0 {
		return nil
	}
	t := &Table{Columns: []string{"Resource", "Change", "Detail"}}
	for i, c := range p.Changes {
		if i == maxRows {
			t.Rows = append(t.Rows, []string{fmt.Sprintf("… %d more", len(p.Changes)-maxRows), "", ""})
			break
		}
		t.Rows = append(t.Rows, []string{c.Resource, c.Action, c.Detail})
	}
	return t
}

// failedMessage is an internal failure: no details in chat, the run id to
// find the log line.
func failedMessage(r store.Run, text string) Message {
	return Message{
		Title:   taskTitle(r.App, r.Task) + " — failed",
		Text:    text,
		Fields:  []Field{{"Parameters", formatParams(r.Params)}},
		Context: runContext(r),
		Tone:    ToneDanger,
	}
}

func interruptedMessage(r store.Run) Message {
	return Message{
		Title:   taskTitle(r.App, r.Task) + " — interrupted",
		Text:    "day2bot restarted while this run was in progress. It was not retried: check the resources, then run it again if needed.",
		Fields:  []Field{{"Parameters", formatParams(r.Params)}},
		Context: runContext(r),
		Tone:    ToneWarning,
		// Never run again by itself: a person presses it, as their own
		// command with the same parameters, decided by the policy again.
		Buttons: retryButtons(r, "Run again"),
	}
}

func denyMessage(c caller, p *prepared, d policies.Decision) Message {
	m := Message{
		Title: "Denied: " + taskTitle(p.app.Name, p.task.Name),
		Text:  d.Reason,
		Tone:  ToneDanger,
	}
	if d.NearMiss != "" {
		m.Fields = append(m.Fields, Field{"Closest rule", d.NearMiss})
	}
	if d.Rule != "" {
		m.Context = append(m.Context, "rule "+d.Rule)
	}
	m.Context = append(m.Context, strings.TrimSpace("see why: why "+p.app.Name+" "+p.task.Name+" "+typedParams(p.params)))
	return m
}

// typedParams is formatParams without the "(no parameters)" placeholder.
func typedParams(params map[string]string) string {
	if len(params) == 0 {
		return ""
	}
	return formatParams(params)
}

func whyMessage(c caller, p *prepared, d policies.Decision) Message {
	effect := map[policies.Effect]string{policies.Allow: "allowed", policies.Approve: "needs approval", policies.Deny: "denied"}[d.Effect]
	m := Message{
		Title: taskTitle(p.app.Name, p.task.Name) + " for " + c.who() + ": " + effect,
		Text:  d.Reason,
		Fields: []Field{
			{"Parameters", formatParams(p.params)},
			{"Mutating", fmt.Sprint(p.action.Mutating())},
		},
	}
	if d.Rule != "" {
		m.Fields = append(m.Fields, Field{"Rule", d.Rule})
	}
	if d.Effect == policies.Approve {
		m.Fields = append(m.Fields, Field{"Approvers", fmt.Sprintf("%d of %s", max(d.Quorum, 1), strings.Join(d.Approvers, ", "))})
	}
	if d.NearMiss != "" {
		m.Fields = append(m.Fields, Field{"Closest rule", d.NearMiss})
	}
	if d.Frozen {
		m.Fields = append(m.Fields, Field{"Frozen", "yes"})
	}
	switch d.Effect {
	case policies.Allow:
		m.Tone = ToneSuccess
	case policies.Approve:
		m.Tone = ToneWarning
	default:
		m.Tone = ToneDanger
	}
	return m
}

// approvalMessage renders an approval in its current state. confirm is the
// task's blueprint warning, shown to approvers; now computes the remaining
// time of a pending one.
func approvalMessage(a store.Approval, ref storedRef, confirm string, now time.Time, note string) Message {
	m := Message{
		Title: "Approval needed: " + taskTitle(a.App, a.Task),
		Fields: []Field{
			{"Requested by", who(a.RequesterHandle, a.Requester)},
			{"Parameters", formatParams(a.Params)},
			{"Approvers", fmt.Sprintf("%d of %s", a.Quorum, strings.Join(a.Approvers, ", "))},
		},
		Tone: ToneWarning,
	}
	if confirm != "" {
		m.Fields = append(m.Fields, Field{"Impact", confirm})
	}
	if n := a.Approvals(); n > 0 {
		var vs []string
		for _, v := range a.Votes {
			if v.Approve {
				vs = append(vs, v.Voter)
			}
		}
		m.Fields = append(m.Fields, Field{"Approved so far", fmt.Sprintf("%d: %s", n, strings.Join(vs, ", "))})
	}
	switch {
	case ref.Plan != nil:
		m.Text = "Plan: " + ref.Plan.Summary
		m.Table = planTable(ref.Plan)
	case ref.PlanErr != "":
		m.Text = "Plan unavailable: " + ref.PlanErr
	default:
		m.Text = "Plan: computing…"
	}
	ctx := "approval " + a.ID
	if a.RuleID != "" {
		ctx += " · rule " + a.RuleID
	}
	switch a.State {
	case store.Pending:
		left := a.ExpiresAt.Sub(now)
		ctx += " · expires in " + tasks.FormatDuration(left.Round(time.Minute))
		// Nobody approves what they have not seen: the buttons come with
		// the plan.
		if ref.Plan == nil {
			ctx += " · Approve and Deny appear with the plan"
			break
		}
		m.Buttons = []Button{
			{ID: buttonApprove + a.ID, Label: "Approve", Style: StylePrimary},
			{ID: buttonDeny + a.ID, Label: "Deny", Style: StyleDanger},
		}
	case store.Approved:
		m.Title = "Approved: " + taskTitle(a.App, a.Task)
		ctx += " · approved by " + a.DecidedBy
		if a.RunID != "" {
			ctx += " · run " + a.RunID
		}
		m.Tone = ToneSuccess
	case store.Denied:
		m.Title = "Denied: " + taskTitle(a.App, a.Task)
		ctx += " · denied by " + a.DecidedBy
		m.Tone = ToneDanger
	case store.Expired:
		m.Title = "Expired: " + taskTitle(a.App, a.Task)
		ctx += " · expired without enough approvals"
		m.Tone = ToneDanger
	default:
		m.Title = "Cancelled: " + taskTitle(a.App, a.Task)
		if a.DecidedBy != "" {
			ctx += " · cancelled by " + a.DecidedBy
		}
		m.Tone = ToneDanger
	}
	m.Context = []string{ctx}
	if note != "" {
		m.Context = append(m.Context, note)
	}
	return m
}
