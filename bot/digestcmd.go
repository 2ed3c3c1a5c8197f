package bot

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/day2bot/day2bot/tasks"
)

// `digest APP` on demand. Building a digest costs about a dozen AWS calls,
// so each app's is built at most once per Options.DigestEvery; a request in
// between posts the last one again, marked with its age, and requests that
// arrive while one is being built wait for it instead of starting their own.

// digests remembers the last on-demand digest of each app.
type digests struct {
	mu   sync.Mutex
	apps map[string]*digestEntry
}

type digestEntry struct {
	started time.Time     // when the last build started
	done    chan struct{} // closed when that build ended
	msg     Message       // its message, once done without error
	err     error         // or its error
}

// get returns the digest of app: the last one if it was started less than
// every ago (fresh is false then), else a new one built with build. The
// caller waits for a build in flight.
func (d *digests) get(ctx context.Context, app string, now time.Time, every time.Duration,
	build func(context.Context) (Message, error)) (m Message, built time.Time, fresh bool, err error) {
	d.mu.Lock()
	if d.apps == nil {
		d.apps = map[string]*digestEntry{}
	}
	en := d.apps[app]
	if en == nil || !now.Before(en.started.Add(every)) {
		en = &digestEntry{started: now, done: make(chan struct{})}
		d.apps[app] = en
		d.mu.Unlock()
		en.msg, en.err = build(ctx)
		close(en.done)
		return en.msg, en.started, true, en.err
	}
	d.mu.Unlock()
	select {
	case <-en.done:
	case <-ctx.Done():
		return Message{}, time.Time{}, false, ctx.Err()
	}
	return en.msg, en.started, false, en.err
}

func (e *Engine) digest(ctx context.Context, c caller, req Request, reply Responder) {
	a, ok := e.readableApp(ctx, c, req.App, reply)
	if !ok {
		return
	}
	if e.opts.Digest == nil {
		e.reject(ctx, reply, usagef("digests are not set up in this day2bot"))
		return
	}
	bg := context.WithoutCancel(ctx)
	e.background(func() {
		now := e.now()
		m, built, fresh, err := e.digests.get(bg, a.Name, now, e.opts.DigestEvery, func(ctx context.Context) (Message, error) {
			e.ephemeral(ctx, reply, Message{Text: "building the digest of " + a.Name + "…"})
			return e.opts.Digest(ctx, a.Name)
		})
		if err != nil {
			e.reject(bg, reply, err)
			return
		}
		if !fresh {
			m.Context = append(slices.Clone(m.Context), "built "+ago(now, built)+
				"; a fresh digest of "+a.Name+" at most every "+tasks.FormatDuration(e.opts.DigestEvery))
		}
		if _, err := reply.Public(bg, m); err != nil {
			e.log.WarnContext(bg, "post digest", "app", a.Name, "err", err)
		}
	})
}
