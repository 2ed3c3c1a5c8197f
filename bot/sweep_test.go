package bot_test

import (
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/internal/clocktest"
	"github.com/day2bot/day2bot/internal/enginetest"
	"github.com/day2bot/day2bot/policies/store"
)

// The engine's own loop sweeps on its clock: moving the clock past an
// approval's expiry and one SweepEvery expires it, with no Sweep call and
// no real time passing.
func TestSweepLoopRunsOnTheClock(t *testing.T) {
	var parked <-chan struct{}
	h := newHarness(t, func(o *bot.Options) {
		o.SweepEvery = time.Minute
		// Before Start, so the loop's first wait is seen.
		parked = o.Clock.(*clocktest.Clock).Parked()
	})
	<-parked // the loop waits for its first sweep
	id := enginetest.ApprovalID(t, h.Say("bob", "shop restart-web"))
	mark := h.Out.Len()
	h.Clock.Advance(time.Hour)
	<-parked // swept, and waiting for the next
	enginetest.MustContain(t, h.Out.Since(mark), "Expired: shop restart-web")
	if a, err := h.Store.Approval(h.Ctx, id); err != nil || a.State != store.Expired {
		t.Fatalf("approval = %s, %v; want expired", a.State, err)
	}
}
