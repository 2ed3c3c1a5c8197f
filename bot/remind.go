package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// Approval reminders: a request nobody has decided by half its time gets
// one reminder in the channel it was asked in, naming who may approve and
// how long is left, so it is not forgotten until it expires. Once per
// approval across restarts and replicas (the store's SeenOnce); never
// after it is decided or expired.

// remindKey is the approval's reminder in the store's seen keys.
func remindKey(id string) string { return "approval-reminder:" + id }

// remindApprovals sends the reminders that are due.
func (e *Engine) remindApprovals(ctx context.Context) {
	pending, err := e.store.PendingApprovals(ctx, "")
	if err != nil {
		e.log.ErrorContext(ctx, "remind approvals", "err", err)
		return
	}
	now := e.now()
	for _, a := range pending {
		half := a.CreatedAt.Add(a.ExpiresAt.Sub(a.CreatedAt) / 2)
		if now.Before(half) || !now.Before(a.ExpiresAt) {
			continue
		}
		first, err := e.store.SeenOnce(ctx, remindKey(a.ID), a.ExpiresAt)
		if err != nil {
			e.log.ErrorContext(ctx, "remind approval", "approval", a.ID, "err", err)
			continue
		}
		if first {
			e.remind(ctx, a)
		}
	}
}

// remind posts one approval's reminder where it was requested.
func (e *Engine) remind(ctx context.Context, a store.Approval) {
	p, ok := e.opts.Platforms[a.Platform]
	if !ok || a.Channel == "" {
		return
	}
	m := Message{
		Title: "Still waiting for approval: " + taskTitle(a.App, a.Task),
		Text: fmt.Sprintf("Requested by %s %s ago; it expires in %s. %d of %s may approve it: on the request, or type `approve %s` / `deny %s`.",
			e.display(ctx, a.Requester), tasks.FormatDuration(e.now().Sub(a.CreatedAt).Round(time.Minute)),
			tasks.FormatDuration(a.ExpiresAt.Sub(e.now()).Round(time.Minute)), a.Quorum, strings.Join(a.Approvers, ", "), a.ID, a.ID),
		Fields:   []Field{{"Parameters", formatParams(a.Params)}},
		Context:  []string{"approval " + a.ID},
		Tone:     ToneWarning,
		Mentions: e.approverPrincipals(ctx, a),
	}
	if _, err := p.Post(ctx, a.Channel, m); err != nil {
		e.log.WarnContext(ctx, "post approval reminder", "approval", a.ID, "err", err)
	}
}

// approverPrincipals are the principals of the people who may approve a,
// for the reminder to mention: the members of its approver groups, its
// approver users, the app's owners for "owner"; never the requester, who
// may not vote. "*" (anyone) mentions no one. A store that cannot say
// leaves the reminder without mentions.
func (e *Engine) approverPrincipals(ctx context.Context, a store.Approval) []string {
	users, err := e.store.Users(ctx)
	if err != nil {
		e.log.WarnContext(ctx, "approvers to mention", "approval", a.ID, "err", err)
		return nil
	}
	groups, err := e.store.Groups(ctx)
	if err != nil {
		e.log.WarnContext(ctx, "approvers to mention", "approval", a.ID, "err", err)
		return nil
	}
	var who []string // handles or principals
	for _, s := range a.Approvers {
		kind, v, _ := strings.Cut(s, ":")
		switch {
		case s == "owner":
			if app, ok := e.apps.app(a.App); ok {
				who = append(who, app.Owners...)
			}
		case kind == "user":
			who = append(who, v)
		case kind == "group":
			who = append(who, groups[v]...)
		}
	}
	var out []string
	for _, w := range who {
		ps := users[w]
		if strings.Contains(w, ":") {
			ps = []string{w} // a principal itself
		}
		for _, p := range ps {
			if p != a.Requester && (a.RequesterHandle == "" || w != a.RequesterHandle) && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}
