package bot

import (
	"context"
	"strconv"
	"strings"

	"github.com/day2bot/day2bot/internal/errs"
)

// alertAction is a press of an alert's remediation button "ra:ID:INDEX".
// The store says which app, task and parameter values the button stands
// for; from there it is exactly the typed `APP TASK k=v …` of the presser:
// validation, policy, and allow, approval or denial.
func (e *Engine) alertAction(ctx context.Context, c caller, ref string, reply Responder) {
	id, idx, ok := strings.Cut(ref, ":")
	i, err := strconv.Atoi(idx)
	if !ok || id == "" || err != nil || i < 0 {
		e.reject(ctx, reply, usagef("this button is not understood any more; type the command instead"))
		return
	}
	app, act, err := e.store.AlertAction(ctx, id, i)
	if errs.Is(errs.NotFound, err) {
		e.reject(ctx, reply, notFoundf("this alert's actions are no longer known; type the command instead"))
		return
	}
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	e.log.InfoContext(ctx, "alert action", "principal", c.Principal, "id", id, "index", i, "app", app, "task", act.Task)
	e.runCommand(ctx, c, Request{Verb: VerbRun, App: app, Task: act.Task, Params: act.Params}, reply)
}
