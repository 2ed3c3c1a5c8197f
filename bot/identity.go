package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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
	if err != nil && !errors.Is(err, store.ErrNotFound) {
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

// isOwner reports whether c owns app.
func isOwner(c caller, app *App) bool {
	return slices.ContainsFunc(app.Owners, func(o string) bool {
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
