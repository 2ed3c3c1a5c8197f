package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/day2bot/day2bot/internal/suggest"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// The dashboard (bot/web) is one page per app. The engine decides what a
// person sees on it and handles its votes, exactly as for chat: the page is
// another adapter, not another set of rules.

// Dashboard is one app's page as one person may see it.
type Dashboard struct {
	App         string
	Description string
	// Status is what `status APP` shows: blueprints, region, freeze, work
	// in progress.
	Status Message
	// Pending approvals, newest first.
	Pending []PendingApproval
	// Runs is the recent runs table; Results the newest finished runs with
	// their per-resource results.
	Runs    *Table
	Results []Message
	// Schedules is what `schedules APP` shows; nil when schedules are not
	// set up.
	Schedules *Message
	// Audit is the app's audit trail, newest first; nil when the store
	// keeps none.
	Audit *Table
}

// PendingApproval is one approval request on the page.
type PendingApproval struct {
	ID      string
	Message Message // as in chat, without its buttons
	// CanVote: the person is an approver of it and not its requester, so
	// the page offers Approve and Deny. The vote is checked again anyway.
	CanVote bool
}

// dashboardRuns is how many runs the page lists and how many of the
// newest finished ones it shows with their results.
const (
	dashboardRuns    = 15
	dashboardResults = 3
	dashboardAudit   = 25
)

// auditLog is the store's read side of the audit trail; a store without it
// leaves the page's audit empty.
type auditLog interface {
	AuditLog(ctx context.Context, f store.AuditFilter) ([]store.Entry, error)
}

// Dashboard builds app's page for the person platform:user. A person who
// may not see the app gets the same answer as for an app that does not
// exist, so the page reveals nothing of apps they have no part in.
func (e *Engine) Dashboard(ctx context.Context, platform, user, app string) (Dashboard, error) {
	c, err := e.identify(ctx, platform, user, "", "")
	if err != nil {
		return Dashboard{}, err
	}
	a, ok := e.apps.app(app)
	if !ok || !e.maySeeApp(ctx, c, a) {
		return Dashboard{}, notFoundf("there is no app %s that you may see", tasks.QuoteInput(app))
	}
	d := Dashboard{App: a.Name, Description: a.Description}
	fr, err := e.freezeOf(ctx, a.Name)
	if err != nil {
		return Dashboard{}, err
	}
	active, err := e.store.Runs(ctx, store.RunFilter{App: a.Name, States: []store.State{store.Queued, store.Running}})
	if err != nil {
		return Dashboard{}, fmt.Errorf("list active runs: %w", err)
	}
	pend, err := e.store.PendingApprovals(ctx, a.Name)
	if err != nil {
		return Dashboard{}, fmt.Errorf("list pending approvals: %w", err)
	}
	d.Status = Message{Title: "Status", Fields: []Field{
		{"Blueprints", strings.Join(a.Blueprints, ", ")},
		{"Region", a.Region},
		{"Frozen", freezeText(fr)},
		{"Runs in progress", fmt.Sprint(len(active))},
		{"Pending approvals", fmt.Sprint(len(pend))},
	}}
	for _, ap := range pend {
		sr, _ := decodeRef(ap.MessageRef)
		m := e.approvalMsg(ctx, ap, sr, "")
		m.Buttons = nil
		mine := c.Principal == ap.Requester || (c.Handle != "" && c.Handle == ap.RequesterHandle)
		d.Pending = append(d.Pending, PendingApproval{ID: ap.ID, Message: m, CanVote: !mine && inApproverSet(c, a, ap.Approvers)})
	}
	runs, err := e.store.Runs(ctx, store.RunFilter{App: a.Name, Limit: dashboardRuns})
	if err != nil {
		return Dashboard{}, fmt.Errorf("list runs: %w", err)
	}
	if len(runs) > 0 {
		d.Runs = runsTable(runs, e.now())
	}
	for _, r := range runs {
		if len(d.Results) == dashboardResults {
			break
		}
		if r.Result == "" {
			continue
		}
		var res tasks.Result
		if err := json.Unmarshal([]byte(r.Result), &res); err != nil {
			e.log.WarnContext(ctx, "dashboard: decode run result", "run", r.ID, "err", err)
			continue
		}
		m := resultMessage(e.namedRun(ctx, r), res, r.State)
		m.Attachment = nil // the page shows the rows it has; the file stays in chat
		d.Results = append(d.Results, m)
	}
	if e.opts.Schedules != nil {
		m, err := e.opts.Schedules(ctx, a.Name)
		if err != nil {
			return Dashboard{}, fmt.Errorf("list schedules: %w", err)
		}
		d.Schedules = &m
	}
	if al, ok := e.store.(auditLog); ok {
		es, err := al.AuditLog(ctx, store.AuditFilter{App: a.Name, Limit: dashboardAudit})
		if err != nil {
			return Dashboard{}, fmt.Errorf("read audit log: %w", err)
		}
		t := &Table{Columns: []string{"When", "Who", "What", "Task", "Run", "Detail"}}
		for _, en := range es {
			t.Rows = append(t.Rows, []string{en.At.UTC().Format("2006-01-02 15:04"), e.display(ctx, en.Actor), en.Kind, en.Task, en.RunID, en.Detail})
		}
		d.Audit = t
	}
	return d, nil
}

// Vote approves or denies approval id as platform:user, through the same
// path as the Approve and Deny buttons in chat (checks, quorum, audit,
// exactly one run). The answer goes to reply.
func (e *Engine) Vote(ctx context.Context, platform, user, id string, approve bool, reply Responder) {
	b := buttonDeny
	if approve {
		b = buttonApprove
	}
	e.HandleAction(ctx, Action{Platform: platform, User: user, ButtonID: b + id, Reply: reply})
}

// dashboardLink answers `dashboard APP` with a private sign-in link.
func (e *Engine) dashboardLink(ctx context.Context, c caller, req Request, reply Responder) {
	if e.opts.DashboardLink == nil {
		e.reject(ctx, reply, usagef("the dashboard is not set up in this day2bot"))
		return
	}
	a, ok := e.apps.app(req.App)
	if !ok || !e.maySeeApp(ctx, c, a) {
		e.reject(ctx, reply, notFoundf("unknown app %s; try apps%s", tasks.QuoteInput(req.App), suggest.DidYouMean(req.App, e.visibleAppNames(ctx, c))))
		return
	}
	link, ttl := e.opts.DashboardLink(c.Platform, strings.TrimPrefix(c.Principal, c.Platform+":"), a.Name)
	e.audit(ctx, c.Principal, "dashboard", a.Name, "", "", "sign-in link issued")
	e.ephemeral(ctx, reply, Message{Title: "Dashboard of " + a.Name,
		Text:    link,
		Context: []string{"this link signs you in; it works for " + tasks.FormatDuration(ttl) + " and only for you — do not share it"}})
}

// maySeeApp is MaySee (visibility.go) for an identified caller; when the
// rules cannot be read nothing is shown.
func (e *Engine) maySeeApp(ctx context.Context, c caller, a *App) bool {
	rs, err := e.store.RuleSet(ctx)
	if err != nil {
		e.log.WarnContext(ctx, "dashboard: load rules", "err", err)
		return false
	}
	return e.sees(c, rs, a)
}

// visibleAppNames are the app names c may see, for suggestions.
func (e *Engine) visibleAppNames(ctx context.Context, c caller) []string {
	rs, err := e.store.RuleSet(ctx)
	if err != nil {
		return nil
	}
	return e.visibleApps(c, rs)
}
