package bot

import "context"

// cost answers `cost APP` privately: the app's cost as Options.Cost
// reports it (Cost Explorer answers are cached there: each call is
// billed).
func (e *Engine) cost(ctx context.Context, c caller, req Request, reply Responder) {
	a, ok := e.readableApp(ctx, c, req.App, reply)
	if !ok {
		return
	}
	if e.opts.Cost == nil {
		e.reject(ctx, reply, usagef("cost is not set up in this day2bot"))
		return
	}
	bg := context.WithoutCancel(ctx)
	e.background(func() {
		m, err := e.opts.Cost(bg, a.Name)
		if err != nil {
			e.internal(bg, reply, "", err)
			return
		}
		e.ephemeral(bg, reply, m)
	})
}
