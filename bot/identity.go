package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies/store"
)

// caller is who sent a command or pressed a button.
type caller struct {
	Principal string // "slack:U123"
	Handle    string // "alice", or "" if the store does not know them
	Groups    []string
	Platform  string
	Channel   string // the platform's channel id, without the prefix
	Name      string // display name, for messages only
}

// Channel in policy form: "slack:C123".
func (c caller) channel() string {
	if c.Channel == "" {
		return ""
	}
	return c.Platform + ":" + c.Channel
}

// who names the caller in messages: the handle if known.
func (c caller) who() string {
	if c.Handle != "" {
		return c.Handle
	}
	if c.Name != "" {
		return c.Name
	}
	return c.Principal
}

func (e *Engine) identify(ctx context.Context, platform, user, name, channel string) (caller, error) {
	c := caller{Principal: platform + ":" + user, Platform: platform, Channel: channel, Name: name}
	h, err := e.store.Handle(ctx, c.Principal)
	if err != nil && !errs.Is(errs.NotFound, err) {
		return c, fmt.Errorf("look up handle of %s: %w", c.Principal, err)
	}
	c.Handle = h
	gs, err := e.store.GroupsOf(ctx, c.Principal, c.Handle)
	if err != nil {
		return c, fmt.Errorf("look up groups of %s: %w", c.Principal, err)
	}
	c.Groups = gs
	return c, nil
}

// isAdmin reports whether c is listed in Options.Admins by handle or
// principal.
func (e *Engine) isAdmin(c caller) bool {
	return slices.ContainsFunc(e.admins, func(a string) bool {
		return a == c.Principal || (c.Handle != "" && strings.EqualFold(a, c.Handle))
	})
}

// isOwner reports whether c owns app: owners are handles, principals or
// "group:NAME".
func isOwner(c caller, app *App) bool {
	return slices.ContainsFunc(app.Owners, func(o string) bool {
		if g, ok := strings.CutPrefix(o, "group:"); ok {
			return slices.Contains(c.Groups, g)
		}
		return o == c.Principal || (c.Handle != "" && strings.EqualFold(o, c.Handle))
	})
}

// inApproverSet reports whether c is one of the approvers a rule names:
// "user:HANDLE", "user:PLATFORM:ID", "group:NAME", "owner" or "*".
func inApproverSet(c caller, app *App, approvers []string) bool {
	for _, s := range approvers {
		kind, v, _ := strings.Cut(s, ":")
		switch {
		case s == "*":
			return true
		case s == "owner":
			if app != nil && isOwner(c, app) {
				return true
			}
		case kind == "user":
			if v == c.Principal || (c.Handle != "" && strings.EqualFold(v, c.Handle)) {
				return true
			}
		case kind == "group":
			if slices.Contains(c.Groups, v) {
				return true
			}
		}
	}
	return false
}

// display names a principal for messages: its handle when the store knows
// one.
func (e *Engine) display(ctx context.Context, principal string) string {
	if principal == "" || principal == "day2bot" {
		return principal
	}
	if h, err := e.store.Handle(ctx, principal); err == nil && h != "" {
		return h
	}
	return principal
}

// named returns a with voters and decider shown by handle.
func (e *Engine) named(ctx context.Context, a store.Approval) store.Approval {
	votes := make([]store.Vote, len(a.Votes))
	for i, v := range a.Votes {
		v.Voter = e.display(ctx, v.Voter)
		votes[i] = v
	}
	a.Votes = votes
	a.DecidedBy = e.display(ctx, a.DecidedBy)
	return a
}

// namedRun returns r with its approvers shown by handle.
func (e *Engine) namedRun(ctx context.Context, r store.Run) store.Run {
	as := make([]string, len(r.Approvers))
	for i, p := range r.Approvers {
		as[i] = e.display(ctx, p)
	}
	r.Approvers = as
	return r
}

// approvalMsg renders an approval with people shown by handle.
func (e *Engine) approvalMsg(ctx context.Context, a store.Approval, sr storedRef, note string) Message {
	return approvalMessage(e.named(ctx, a), sr, e.apps.confirmText(a.App, a.Task), e.now(), note)
}
