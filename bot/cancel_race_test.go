package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies/store"
)

// slowRunning holds the engine's first "— running" update of a run, the
// moment after a worker has claimed the run and before the action starts,
// until the test releases it. The hold does not depend on the test being
// ready to notice it: entered is closed (a signal that cannot be missed,
// unlike a non-blocking send) and the worker waits for release.
type slowRunning struct {
	bot.Platform
	once             sync.Once
	entered, release chan struct{}
}

func (p *slowRunning) Update(ctx context.Context, ref bot.MessageRef, m bot.Message) error {
	if strings.HasSuffix(m.Title, "— running") {
		p.once.Do(func() {
			close(p.entered)
			<-p.release
		})
	}
	return p.Platform.Update(ctx, ref, m)
}

// cancel reaches a run a worker has claimed but whose action has not
// started yet (its "running" message is still being posted): the action
// never runs.
func TestCancelJustClaimedRun(t *testing.T) {
	slow := &slowRunning{entered: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, func(o *bot.Options) {
		slow.Platform = o.Platforms["shell"]
		o.Platforms["shell"] = slow
	})
	h.Session("alice").Line(h.Ctx, "shop restart-web")
	select {
	case <-slow.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the run never showed running")
	}
	mark := h.Out.Len()
	h.Session("alice").Line(h.Ctx, "cancel r-1")
	out := h.Out.Since(mark)
	close(slow.release)
	h.Drain()
	enginetest.MustContain(t, out, "cancelling run r-1")
	if n := h.restart.runs.Load(); n != 0 {
		t.Fatalf("restart-web ran %d times after it was cancelled", n)
	}
	if rs := h.Runs("shop"); len(rs) != 1 || rs[0].State != store.Cancelled {
		t.Fatalf("runs = %+v, want one cancelled", rs)
	}
}
