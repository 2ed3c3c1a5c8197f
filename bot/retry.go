package bot

import (
	"context"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/policies/store"
)

// retryButtons offer r's command again under label: Retry after a failure
// that may pass, Run again after an interruption.
func retryButtons(r store.Run, label string) []Button {
	return []Button{{ID: buttonRetry + r.ID, Label: label}}
}

// retryButton is a press of a failed run's Retry button "rt:RUN": the run's
// app, task and parameters (and dry run) as the presser's own typed
// command, so the policy decides again for whoever pressed it; the failed
// run stays as it was.
func (e *Engine) retryButton(ctx context.Context, c caller, runID string, reply Responder) {
	run, err := e.store.Run(ctx, runID)
	if errs.Is(errs.NotFound, err) {
		e.reject(ctx, reply, notFoundf("run %s is no longer known; type the command instead", runID))
		return
	}
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	e.log.InfoContext(ctx, "retry", "principal", c.Principal, "run", run.ID, "app", run.App, "task", run.Task)
	e.runCommand(ctx, c, Request{Verb: VerbRun, App: run.App, Task: run.Task, Params: run.Params, DryRun: run.DryRun}, reply)
}
