package bot_test

import "testing"

// A freeze stops mutating runs that were allowed before it but are still
// waiting for a worker: they are cancelled, not run.
func TestFreezeStopsQueuedRuns(t *testing.T) {
	h := newHarness(t, oneWorker)
	gate := busyWorker(t, h)
	h.session("alice").Line(h.ctx, "shop restart-web")
	h.session("alice").Line(h.ctx, "freeze shop incident")
	close(gate)
	h.drain()
	if n := h.restart.runs.Load(); n != 0 {
		t.Fatalf("restart-web ran %d times although shop was frozen before it started", n)
	}
	rs := h.runs("shop")
	if len(rs) != 2 || rs[0].Task != "restart-web" || rs[0].State != "cancelled" {
		t.Fatalf("runs = %+v, want restart-web cancelled", rs)
	}
	mustContain(t, h.out.String(), "shop is frozen")
}
