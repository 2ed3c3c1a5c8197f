package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/day2bot/day2bot/internal/suggest"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// The read-only commands: help, apps, tasks, status, history, pending.

func (e *Engine) help(ctx context.Context, c caller, req Request, reply Responder) {
	if req.Topic != "" {
		if a, ok := e.apps.app(req.Topic); ok {
			e.listTasks(ctx, c, Request{App: a.Name}, reply)
			return
		}
		rs, err := e.store.RuleSet(ctx)
		if err != nil {
			e.internal(ctx, reply, "", err)
			return
		}
		if u, ok := usage[Verb(req.Topic)]; ok {
			e.ephemeral(ctx, reply, Message{Title: "help " + req.Topic, Text: u})
			return
		}
		cands := append(verbWords(), e.visibleApps(c, rs)...)
		e.reject(ctx, reply, notFoundf("no help on %s; try help%s", tasks.QuoteInput(req.Topic), suggest.DidYouMean(req.Topic, cands)))
		return
	}
	rs, err := e.store.RuleSet(ctx)
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	lines := []string{usage[VerbApps], usage[VerbTasks], usage[VerbRun], usage[VerbWhy], usage[VerbStatus],
		usage[VerbDigest], usage[VerbCost], usage[VerbReport], usage[VerbSchedules], usage[VerbHistory], usage[VerbPending], usage[VerbCancel]}
	if e.mayApprove(c, rs) {
		lines = append(lines, usage[VerbApprove], usage[VerbDeny])
	}
	if e.mayFreezeSome(c) {
		lines = append(lines, usage[VerbFreeze], usage[VerbUnfreeze])
	}
	if e.isAdmin(c) {
		lines = append(lines, usage[VerbPolicy])
	}
	if e.opts.DashboardLink != nil {
		lines = append(lines, usage[VerbDashboard])
	}
	m := Message{Title: "day2bot — what you, " + c.who() + ", may run", Text: strings.Join(lines, "\n")}
	t := &Table{Columns: []string{"App", "Task", "Effect", "Parameters"}}
	for _, name := range e.apps.names {
		a, _ := e.apps.app(name)
		for _, task := range a.Tasks {
			d, ok := e.defaultsDecision(ctx, c, rs, a, &task)
			if !ok || d.Effect == policies.Deny {
				continue
			}
			t.Rows = append(t.Rows, []string{a.Name, task.Name, decisionWord(d), paramNames(task.Params)})
		}
	}
	if len(t.Rows) > 0 {
		m.Table = t
	} else {
		m.Context = []string{"no task is open to you yet; ask an admin"}
	}
	e.ephemeral(ctx, reply, m)
}

// usage is the one-line synopsis of each command.
var usage = map[Verb]string{
	VerbHelp:      "`help [command|app]` — this list",
	VerbApps:      "`apps` — the apps",
	VerbTasks:     "`tasks APP` — an app's tasks and parameters",
	VerbRun:       "`APP TASK [key=value …] [--dry-run]` — run a task (also `run APP TASK …`)",
	VerbWhy:       "`why APP TASK [key=value …]` — explain the policy decision",
	VerbStatus:    "`status APP` — freeze, runs in progress, pending approvals",
	VerbDigest:    "`digest APP` — the app's health digest",
	VerbCost:      "`cost APP` — the app's cost: month to date, last month, forecast, by service",
	VerbReport:    "`report APP [YYYY-MM]` — the month's report with a CSV: cost by service and day, runs, approvals, changes",
	VerbSchedules: "`schedules APP` — the app's schedules with their next and last runs",
	VerbHistory:   "`history [APP]` — recent runs",
	VerbPending:   "`pending` — approvals waiting",
	VerbCancel:    "`cancel ID|last` — cancel your run or approval request (last: your newest)",
	VerbApprove:   "`approve ID|last` — approve a request (last: the newest waiting for you)",
	VerbDeny:      "`deny ID|last [reason]` — deny a request",
	VerbFreeze:    "`freeze APP [duration] [reason]` — stop mutating tasks",
	VerbUnfreeze:  "`unfreeze APP` — lift a freeze",
	VerbPolicy:    "`policy list|show ID|remove ID|test USER APP TASK [k=v …]` — manage guardrails",
	VerbDashboard: "`dashboard APP` — a private link to the app's page",
}

func effectWord(e policies.Effect) string {
	switch e {
	case policies.Allow:
		return "allowed"
	case policies.Approve:
		return "needs approval"
	}
	return "denied"
}

// paramNames is the short form help shows: required names bare, optional
// ones with their default: "bucket principal [duration=24h]".
func paramNames(ps []tasks.Param) string {
	if len(ps) == 0 {
		return "—"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		switch {
		case p.Required:
			s[i] = p.Name
		case p.Default != "":
			s[i] = "[" + p.Name + "=" + p.Default + "]"
		default:
			s[i] = "[" + p.Name + "]"
		}
	}
	return strings.Join(s, " ")
}

// mayApprove reports whether any rule names c as an approver.
func (e *Engine) mayApprove(c caller, rs *policies.RuleSet) bool {
	if rs == nil {
		return false
	}
	for _, r := range rs.Rules() {
		if r.Effect != policies.Approve {
			continue
		}
		// Owners approve only for their apps; any app they own counts.
		for _, a := range e.apps.apps {
			if inApproverSet(c, a, r.Approvers) {
				return true
			}
		}
		if inApproverSet(c, nil, r.Approvers) {
			return true
		}
	}
	return false
}

func (e *Engine) mayFreezeSome(c caller) bool {
	if e.isAdmin(c) {
		return true
	}
	for _, a := range e.apps.apps {
		if isOwner(c, a) {
			return true
		}
	}
	return false
}

func (e *Engine) listApps(ctx context.Context, c caller, reply Responder) {
	if len(e.apps.names) == 0 {
		e.ephemeral(ctx, reply, Message{Text: "no apps are configured"})
		return
	}
	rs, err := e.store.RuleSet(ctx)
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	names := e.visibleApps(c, rs)
	if len(names) == 0 {
		e.ephemeral(ctx, reply, Message{Text: "no app is open to you yet; ask an admin"})
		return
	}
	t := &Table{Columns: []string{"App", "Blueprints", "Region", "Tasks"}}
	for _, n := range names {
		a, _ := e.apps.app(n)
		t.Rows = append(t.Rows, []string{a.Name, strings.Join(a.Blueprints, ", "), a.Region, fmt.Sprint(len(a.Tasks))})
	}
	e.ephemeral(ctx, reply, Message{Title: "Apps", Table: t, Context: []string{"tasks APP lists what an app offers"}})
}

func (e *Engine) listTasks(ctx context.Context, c caller, req Request, reply Responder) {
	a, ok := e.readableApp(ctx, c, req.App, reply)
	if !ok {
		return
	}
	rs, err := e.store.RuleSet(ctx)
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	if req.Task != "" {
		e.taskDetail(ctx, c, a, req.Task, rs, reply)
		return
	}
	// One line a task, within an 80-column chat window: the description
	// cut to fit; parameters and the rest are one `tasks APP TASK` away.
	t := &Table{Columns: []string{"Task", "For you", "What it does"}}
	for _, task := range a.Tasks {
		eff := "unknown"
		if d, ok := e.defaultsDecision(ctx, c, rs, a, &task); ok {
			eff = decisionWord(d)
		}
		t.Rows = append(t.Rows, []string{task.Name, eff, task.Description})
	}
	fitTable(t, 2, listWidth)
	m := Message{Title: "Tasks of " + a.Name, Text: a.Description, Table: t,
		Context: []string{"details: tasks " + a.Name + " TASK · run: " + a.Name + " TASK k=v … · why " + a.Name + " TASK"},
		Buttons: e.formButtons(ctx, c, a, "", reply)}
	e.ephemeral(ctx, reply, m)
}

// listWidth is the width a listing fits: an 80-column terminal or chat
// pane, less the indent and column gaps renderers add.
const listWidth = 72

// taskDetail is `tasks APP TASK`: what the task does, what the caller may
// do with it, and every parameter with its human description and bounds.
func (e *Engine) taskDetail(ctx context.Context, c caller, a *App, name string, rs *policies.RuleSet, reply Responder) {
	task, ok := a.task(name)
	if !ok {
		names := make([]string, len(a.Tasks))
		for i, t := range a.Tasks {
			names[i] = t.Name
		}
		e.reject(ctx, reply, notFoundf("%s has no task %s; try tasks %s%s", a.Name, tasks.QuoteInput(name), a.Name, suggest.DidYouMean(name, names)))
		return
	}
	eff := "unknown"
	if d, ok := e.defaultsDecision(ctx, c, rs, a, task); ok {
		eff = decisionWord(d)
	}
	m := Message{Title: a.Name + " " + task.Name, Text: task.Description,
		Fields: []Field{{"For you", eff}, {"Blueprint", task.Blueprint}}}
	if task.Confirm != "" {
		m.Fields = append(m.Fields, Field{"Impact", task.Confirm})
	}
	// Parameters as lines, not a table: their descriptions are sentences,
	// which wrap where a table would run off an 80-column window.
	var lines []string
	for _, p := range task.Params {
		l := "• " + p.Name
		switch {
		case p.Required:
			l += " (required)"
		case p.Default != "":
			l += " (default " + p.Default + ")"
		}
		if p.Description != "" {
			l += ": " + p.Description
		}
		lines = append(lines, l+" — "+p.Allowed())
	}
	if len(lines) == 0 {
		lines = []string{"no parameters"}
	}
	m.Text += "\n" + strings.Join(lines, "\n")
	m.Context = []string{"run: " + a.Name + " " + task.Name + " key=value … [--dry-run] · explain: why " + a.Name + " " + task.Name}
	m.Buttons = e.formButtons(ctx, c, a, task.Name, reply)
	e.ephemeral(ctx, reply, m)
}

// fitTable cuts column col of every row so that the table's widest line
// (columns joined by two spaces, as renderers lay them out) is at most
// width runes. Cut text ends in "…".
func fitTable(t *Table, col, width int) {
	widths := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		widths[i] = utf8.RuneCountInString(c)
	}
	for _, r := range t.Rows {
		for i, v := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(v))
		}
	}
	other := 2 * (len(widths) - 1)
	for i, w := range widths {
		if i != col {
			other += w
		}
	}
	room := max(width-other, 12)
	for _, r := range t.Rows {
		if rs := []rune(r[col]); len(rs) > room {
			r[col] = strings.TrimSpace(string(rs[:room-1])) + "…"
		}
	}
}

func (e *Engine) status(ctx context.Context, c caller, req Request, reply Responder) {
	a, ok := e.readableApp(ctx, c, req.App, reply)
	if !ok {
		return
	}
	fr, err := e.freezeOf(ctx, a.Name)
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	active, err := e.store.Runs(ctx, store.RunFilter{App: a.Name, States: []store.State{store.Queued, store.Running}})
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	pend, err := e.store.PendingApprovals(ctx, a.Name)
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	m := Message{Title: "Status of " + a.Name, Fields: []Field{
		{"Blueprints", strings.Join(a.Blueprints, ", ")},
		{"Region", a.Region},
		{"Frozen", freezeText(fr)},
		{"Runs in progress", fmt.Sprint(len(active))},
		{"Pending approvals", fmt.Sprint(len(pend))},
	}}
	if len(active) > 0 {
		m.Table = runsTable(active, e.now())
	}
	e.ephemeral(ctx, reply, m)
}

func freezeText(f *policies.Freeze) string {
	if f == nil {
		return "no"
	}
	s := "yes, by " + f.By
	if !f.Until.IsZero() {
		s += " until " + f.Until.UTC().Format("2006-01-02 15:04 MST")
	}
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	return s
}

func (e *Engine) history(ctx context.Context, c caller, req Request, reply Responder) {
	title := "Recent runs"
	var rs []store.Run
	if req.App != "" {
		a, ok := e.readableApp(ctx, c, req.App, reply)
		if !ok {
			return
		}
		title += " of " + a.Name
		runs, err := e.store.Runs(ctx, store.RunFilter{App: a.Name, Limit: historyRows})
		if err != nil {
			e.internal(ctx, reply, "", err)
			return
		}
		rs = runs
	} else {
		runs, err := e.visibleRuns(ctx, c)
		if err != nil {
			e.internal(ctx, reply, "", err)
			return
		}
		rs = runs
	}
	if len(rs) == 0 {
		e.ephemeral(ctx, reply, Message{Title: title, Text: "no runs yet"})
		return
	}
	e.ephemeral(ctx, reply, Message{Title: title, Table: runsTable(rs, e.now())})
}

// historyRows is how many runs `history` shows.
const historyRows = 15

// visibleRuns are the newest runs of the apps c may see. Admins see every
// run, including those of apps no longer configured; everyone else the
// newest of each visible app, merged.
func (e *Engine) visibleRuns(ctx context.Context, c caller) ([]store.Run, error) {
	if e.isAdmin(c) {
		return e.store.Runs(ctx, store.RunFilter{Limit: historyRows})
	}
	rules, err := e.store.RuleSet(ctx)
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	var rs []store.Run
	for _, app := range e.visibleApps(c, rules) {
		runs, err := e.store.Runs(ctx, store.RunFilter{App: app, Limit: historyRows})
		if err != nil {
			return nil, err
		}
		rs = append(rs, runs...)
	}
	slices.SortFunc(rs, func(a, b store.Run) int { return cmp.Compare(runSeq(b.ID), runSeq(a.ID)) })
	return rs[:min(len(rs), historyRows)], nil
}

// runSeq is the journal order of a run id ("r-42" → 42).
func runSeq(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "r-"))
	return n
}

func runsTable(rs []store.Run, now time.Time) *Table {
	t := &Table{Columns: []string{"Run", "State", "App", "Task", "By", "When", "Summary"}}
	for _, r := range rs {
		t.Rows = append(t.Rows, []string{r.ID, string(r.State), r.App, r.Task, who(r.Handle, r.Principal), ago(now, r.CreatedAt), r.Summary})
	}
	return t
}

// ago renders how long ago t was, coarsely: "just now", "5m ago", "3h ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

func (e *Engine) pendingList(ctx context.Context, c caller, reply Responder) {
	as, err := e.store.PendingApprovals(ctx, "")
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	t := &Table{Columns: []string{"Approval", "App", "Task", "Parameters", "Requested by", "You"}}
	for _, a := range as {
		if !e.now().Before(a.ExpiresAt) {
			continue
		}
		app, _ := e.apps.app(a.App)
		you := ""
		switch {
		case a.Requester == c.Principal || (c.Handle != "" && a.RequesterHandle == c.Handle):
			you = "yours"
		case inApproverSet(c, app, a.Approvers):
			you = "may approve"
		default:
			continue
		}
		t.Rows = append(t.Rows, []string{a.ID, a.App, a.Task, formatParams(a.Params), who(a.RequesterHandle, a.Requester), you})
	}
	if len(t.Rows) == 0 {
		e.ephemeral(ctx, reply, Message{Title: "Pending approvals", Text: "nothing is waiting for you"})
		return
	}
	e.ephemeral(ctx, reply, Message{Title: "Pending approvals", Table: t, Context: []string{"approve ID · deny ID [reason]"}})
}
