package bot

import (
	"context"
	"strings"
	"time"

	"github.com/day2bot/day2bot/internal/suggest"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/tasks"
)

// freeze and policy: the commands for admins (and app owners for freezes).

func (e *Engine) freeze(ctx context.Context, c caller, req Request, reply Responder) {
	a, ok := e.readableApp(ctx, c, req.App, reply)
	if !ok {
		return
	}
	if !e.isAdmin(c) && !isOwner(c, a) {
		e.reject(ctx, reply, deniedf("only admins and owners of %s may freeze it", a.Name))
		return
	}
	var until time.Time // zero: until unfrozen
	if req.For > 0 {
		until = e.now().Add(req.For)
	}
	if err := e.store.Freeze(ctx, a.Name, c.who(), req.Reason, until); err != nil {
		e.reject(ctx, reply, err)
		return
	}
	text := a.Name + " is frozen: mutating tasks are denied"
	if req.For > 0 {
		text += " for " + tasks.FormatDuration(req.For)
	} else {
		text += " until unfrozen"
	}
	if req.Reason != "" {
		text += " (" + req.Reason + ")"
	}
	m := Message{Title: "Freeze: " + a.Name, Text: text, Context: []string{"by " + c.who() + " · unfreeze " + a.Name + " lifts it"}, Tone: ToneWarning}
	if _, err := reply.Public(ctx, m); err != nil {
		e.ephemeral(ctx, reply, m)
	}
}

func (e *Engine) unfreeze(ctx context.Context, c caller, req Request, reply Responder) {
	a, ok := e.readableApp(ctx, c, req.App, reply)
	if !ok {
		return
	}
	if !e.isAdmin(c) && !isOwner(c, a) {
		e.reject(ctx, reply, deniedf("only admins and owners of %s may unfreeze it", a.Name))
		return
	}
	if err := e.store.Unfreeze(ctx, a.Name, c.who()); err != nil {
		e.reject(ctx, reply, err)
		return
	}
	m := Message{Title: "Unfrozen: " + a.Name, Text: "mutating tasks of " + a.Name + " follow the policies again", Context: []string{"by " + c.who()}, Tone: ToneSuccess}
	if _, err := reply.Public(ctx, m); err != nil {
		e.ephemeral(ctx, reply, m)
	}
}

func (e *Engine) policyCommand(ctx context.Context, c caller, req Request, reply Responder) {
	if !e.isAdmin(c) {
		e.reject(ctx, reply, deniedf("policy commands are for admins"))
		return
	}
	switch req.Policy {
	case PolicyList:
		rules, err := e.store.Rules(ctx)
		if err != nil {
			e.internal(ctx, reply, "", err)
			return
		}
		if len(rules) == 0 {
			e.ephemeral(ctx, reply, Message{Title: "Policy", Text: "no rules: everything is denied"})
			return
		}
		t := &Table{Columns: []string{"Rule", "Effect", "Who", "Apps", "Tasks", "Conditions"}}
		for _, r := range rules {
			t.Rows = append(t.Rows, []string{r.ID, string(r.Effect), strings.Join(r.Subjects, ", "), globs(r.Apps), globs(r.Tasks), conditions(r)})
		}
		e.ephemeral(ctx, reply, Message{Title: "Policy", Table: t, Context: []string{"first matching deny wins, then approve, then allow; default deny"}})
	case PolicyShow:
		rules, err := e.store.Rules(ctx)
		if err != nil {
			e.internal(ctx, reply, "", err)
			return
		}
		ids := make([]string, len(rules))
		for i, r := range rules {
			ids[i] = r.ID
			if r.ID == req.ID {
				e.ephemeral(ctx, reply, ruleMessage(r))
				return
			}
		}
		e.reject(ctx, reply, notFoundf("no rule %q%s", req.ID, suggest.DidYouMean(req.ID, ids)))
	case PolicyRemove:
		if err := e.store.RemoveRule(ctx, c.Principal, req.ID); err != nil {
			e.reject(ctx, reply, err)
			return
		}
		e.ephemeral(ctx, reply, Message{Text: "removed rule " + req.ID, Tone: ToneSuccess})
	case PolicyTest:
		p, err := e.resolve(req.App, req.Task, req.Params)
		if err != nil {
			e.reject(ctx, reply, err)
			return
		}
		subject, err := e.subjectOf(ctx, req.User, c)
		if err != nil {
			e.reject(ctx, reply, err) // a user the store cannot read is the admin's typo
			return
		}
		d, err := e.decide(ctx, subject, p)
		if err != nil {
			e.internal(ctx, reply, "", err)
			return
		}
		e.ephemeral(ctx, reply, whyMessage(subject, p, d))
	default:
		e.reject(ctx, reply, usagef("usage: policy list|show ID|remove ID|test USER APP TASK [key=value …]"))
	}
}

// subjectOf builds the caller policy test evaluates for, in the admin's
// channel: user is a principal ("slack:U1") or a handle ("bob"), resolved as
// `day2bot policy test --user` resolves it.
func (e *Engine) subjectOf(ctx context.Context, user string, admin caller) (caller, error) {
	s := caller{Platform: admin.Platform, Channel: admin.Channel}
	var err error
	s.Principal, s.Handle, s.Groups, err = e.store.Identify(ctx, user)
	return s, err
}

func globs(gs []string) string {
	if len(gs) == 0 {
		return "*"
	}
	return strings.Join(gs, ", ")
}

// conditions is the rule's conditions on one line, in the order
// policies.Rule.Conditions gives them, so a listing reads the same each time.
func conditions(r policies.Rule) string {
	cs := r.Conditions()
	if len(cs) == 0 {
		return "—"
	}
	return strings.Join(cs, "; ")
}

func ruleMessage(r policies.Rule) Message {
	m := Message{Title: "Rule " + r.ID, Text: r.Description, Fields: []Field{
		{"Effect", string(r.Effect)},
		{"Who", strings.Join(r.Subjects, ", ")},
		{"Apps", globs(r.Apps)},
		{"Tasks", globs(r.Tasks)},
		{"Conditions", conditions(r)},
	}}
	if r.Expiry != "" {
		m.Fields = append(m.Fields, Field{"Expiry", r.Expiry})
	}
	return m
}
