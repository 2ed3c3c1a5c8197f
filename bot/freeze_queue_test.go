package bot_test

import (
	"testing"

	"github.com/day2bot/day2bot/internal/enginetest"
)

// A freeze stops mutating runs that were allowed before it but are still
// waiting for a worker: they are cancelled, not run.
func TestFreezeStopsQueuedRuns(t *testing.T) {
	h := newHarness(t, oneWorker)
	gate := busyWorker(t, h)
	h.Session("alice").Line(h.Ctx, "shop restart-web")
	h.Session("alice").Line(h.Ctx, "freeze shop incident")
	close(gate)
	h.Drain()
	if n := h.restart.runs.Load(); n != 0 {
		t.Fatalf("restart-web ran %d times although shop was frozen before it started", n)
	}
	rs := h.Runs("shop")
	if len(rs) != 2 || rs[0].Task != "restart-web" || rs[0].State != "cancelled" {
		t.Fatalf("runs = %+v, want restart-web cancelled", rs)
	}
	enginetest.MustContain(t, h.Out.String(), "shop is frozen")
}
