package bot

import (
	"context"

	"github.com/day2bot/day2bot/internal/suggest"
)

// schedules answers `schedules APP` with what Options.Schedules lists (the
// composition root owns the scheduler). Anyone who can see the app may
// look: schedules show when routine work runs, not how to change it.
func (e *Engine) schedules(ctx context.Context, req Request, reply Responder) {
	a, ok := e.apps.app(req.App)
	if !ok {
		e.reject(ctx, reply, usagef("unknown app %q; try apps%s", req.App, suggest.DidYouMean(req.App, e.apps.names)))
		return
	}
	if e.opts.Schedules == nil {
		e.reject(ctx, reply, usagef("schedules are not set up in this day2bot"))
		return
	}
	m, err := e.opts.Schedules(ctx, a.Name)
	if err != nil {
		e.internal(ctx, reply, "", err)
		return
	}
	e.ephemeral(ctx, reply, m)
}
