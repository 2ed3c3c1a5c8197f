package bot

import (
	"context"
	"strings"

	"github.com/day2bot/day2bot/policies/store"
)

// "last" stands for the newest item of the kind a verb takes, so nobody
// has to copy an id from the message above: for approve and deny, the
// newest pending approval the caller may vote on (not their own); for
// cancel, the newest run of theirs still queued or running, else their
// newest pending approval.

// lastApproval is the newest pending approval c may vote on.
func (e *Engine) lastApproval(ctx context.Context, c caller) (string, error) {
	as, err := e.store.PendingApprovals(ctx, "")
	if err != nil {
		return "", err
	}
	for i := len(as) - 1; i >= 0; i-- { // oldest first: walk back
		a := as[i]
		app, ok := e.apps.app(a.App)
		if !ok || isRequester(c, a) || !inApproverSet(c, app, a.Approvers) {
			continue
		}
		return a.ID, nil
	}
	return "", notFoundf("no approval is waiting for your vote; see pending")
}

// lastCancellable is the newest run of c's still queued or running, else
// the newest pending approval c asked for.
func (e *Engine) lastCancellable(ctx context.Context, c caller) (string, error) {
	rs, err := e.store.Runs(ctx, store.RunFilter{States: []store.State{store.Queued, store.Running}, Limit: 200})
	if err != nil {
		return "", err
	}
	for _, r := range rs { // newest first
		if r.Principal == c.Principal || (c.Handle != "" && r.Handle == c.Handle) {
			return r.ID, nil
		}
	}
	as, err := e.store.PendingApprovals(ctx, "")
	if err != nil {
		return "", err
	}
	for i := len(as) - 1; i >= 0; i-- {
		if isRequester(c, as[i]) {
			return as[i].ID, nil
		}
	}
	return "", notFoundf("you have no run in progress and no pending request to cancel")
}

func isRequester(c caller, a store.Approval) bool {
	return a.Requester == c.Principal || (c.Handle != "" && a.RequesterHandle == c.Handle)
}

// resolveLast turns "last" in an approve, deny or cancel into an id.
func (e *Engine) resolveLast(ctx context.Context, c caller, verb Verb, id string) (string, error) {
	if !strings.EqualFold(id, "last") {
		return id, nil
	}
	if verb == VerbCancel {
		return e.lastCancellable(ctx, c)
	}
	return e.lastApproval(ctx, c)
}
