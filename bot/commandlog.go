package bot

import (
	"context"
	"log/slog"
	"time"
)

// commandLog collects what one command (or button press) led to, so each is exactly
// one log line carrying its outcome and, where there is one, its run or
// approval id (DESIGN: "one line per command with the run id"). The line is
// written when HandleCommand returns; later events of a run (started,
// finished) are logged by the runner under the same run id.
type commandLog struct {
	what     string // "command" (default) or "button"
	start    time.Time
	attrs    []slog.Attr
	effect   string
	rule     string
	run      string
	approval string
	outcome  string // "answered" unless something more specific happened
}

type commandLogKey struct{}

func withCommandLog(ctx context.Context, l *commandLog) context.Context {
	return context.WithValue(ctx, commandLogKey{}, l)
}

// noteCommand returns the command's log record; outside a command (button
// presses, scheduled runs) it returns a throwaway one, so callers need not
// check.
func noteCommand(ctx context.Context) *commandLog {
	if l, ok := ctx.Value(commandLogKey{}).(*commandLog); ok {
		return l
	}
	return &commandLog{}
}

func (l *commandLog) write(ctx context.Context, log *slog.Logger, now time.Time) {
	attrs := append(l.attrs, slog.String("outcome", l.outcome))
	for _, kv := range []struct{ k, v string }{{"effect", l.effect}, {"rule", l.rule}, {"run", l.run}, {"approval", l.approval}} {
		if kv.v != "" {
			attrs = append(attrs, slog.String(kv.k, kv.v))
		}
	}
	attrs = append(attrs, slog.Duration("took", now.Sub(l.start)))
	what := l.what
	if what == "" {
		what = "command"
	}
	log.LogAttrs(ctx, slog.LevelInfo, what, attrs...)
}
