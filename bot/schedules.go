package bot

import (
	"context"
)

// schedules answers `schedules APP` with what Options.Schedules lists (the
// composition root owns the scheduler). Anyone who may see the app (MaySee)
// may look: schedules show when routine work runs, not how to change it.
func (e *Engine) schedules(ctx context.Context, c caller, req Request, reply Responder) {
	a, ok := e.readableApp(ctx, c, req.App, reply)
	if !ok {
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
