package bot

import (
	"context"
	"strings"

	"github.com/day2bot/day2bot/policies/store"
)

// cancelCommand cancels a run (queued or running) or withdraws a pending
// approval. The requester and admins may cancel; so may the approvers of
// an approval.
func (e *Engine) cancelCommand(ctx context.Context, c caller, id string, reply Responder) {
	id = strings.ToLower(id)
	if strings.HasPrefix(id, "a-") {
		a, err := e.store.Approval(ctx, id)
		if err != nil {
			e.reject(ctx, reply, err)
			return
		}
		app, _ := e.apps.app(a.App)
		mine := a.Requester == c.Principal || (c.Handle != "" && a.RequesterHandle == c.Handle)
		if !mine && !e.isAdmin(c) && !inApproverSet(c, app, a.Approvers) {
			e.reject(ctx, reply, deniedf("only the requester, an approver or an admin may cancel %s", id))
			return
		}
		unlock := e.lockMessage(id)
		defer unlock()
		if err := e.store.CancelApproval(ctx, id, c.Principal); err != nil {
			e.reject(ctx, reply, err)
			return
		}
		a, err = e.store.Approval(ctx, id)
		if err != nil {
			e.internal(ctx, reply, "", err)
			return
		}
		sr, _ := decodeRef(a.MessageRef)
		e.updateOrReply(ctx, sr, reply, e.approvalMsg(ctx, a, sr, ""))
		if sr.Platform != "" {
			e.ephemeral(ctx, reply, Message{Text: "cancelled approval " + id})
		}
		return
	}
	run, err := e.store.Run(ctx, id)
	if err != nil {
		e.reject(ctx, reply, err)
		return
	}
	mine := run.Principal == c.Principal || (c.Handle != "" && run.Handle == c.Handle)
	if !mine && !e.isAdmin(c) {
		e.reject(ctx, reply, deniedf("only %s or an admin may cancel %s", who(run.Handle, run.Principal), id))
		return
	}
	switch run.State {
	case store.Queued:
		if err := e.store.TransitionRun(ctx, id, store.Queued, store.Cancelled, "cancelled by "+c.who()); err != nil {
			if e.runner.cancel(id, c.who()) { // it started meanwhile
				e.ephemeral(ctx, reply, Message{Text: "cancelling run " + id + "…"})
				return
			}
			e.reject(ctx, reply, err)
			return
		}
		e.metrics.runs.WithLabelValues(string(store.Cancelled)).Inc()
		m := failedMessage(e.namedRun(ctx, run), "cancelled by "+c.who()+" before it started")
		m.Title, m.Tone = taskTitle(run.App, run.Task)+" — cancelled", ToneWarning
		e.announce(ctx, run, m)
		e.ephemeral(ctx, reply, Message{Text: "cancelled run " + id})
	case store.Running:
		if !e.runner.cancel(id, c.who()) {
			e.reject(ctx, reply, conflictf("run %s is running in another day2bot process; it cannot be cancelled from here", id))
			return
		}
		e.ephemeral(ctx, reply, Message{Text: "cancelling run " + id + "…"})
	default:
		e.reject(ctx, reply, conflictf("run %s is already %s", id, run.State))
	}
}
