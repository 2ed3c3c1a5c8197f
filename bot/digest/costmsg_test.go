package digest

import (
	"context"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot/shell"
	"github.com/day2bot/day2bot/internal/clocktest"
)

// TestCostMessageFromEmulator is `cost APP` end to end against the
// emulator's Cost Explorer, rendered as the terminal shows it.
func TestCostMessageFromEmulator(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	b := newBuilder(t, openStore(t, clk.Now), clk.Now, func(o *Options) { o.CostTag = "app" })
	app := webApp(t, 0, 0)
	m, err := b.CostMessage(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	// The emulator's share depends on the filter, which names the app:
	// the golden is of a fixed app, the numbers of this one are checked
	// for shape.
	if m.Table == nil || len(m.Table.Rows) != 5 || m.Fields[2].Name != "Forecast for November" {
		t.Errorf("cost message %+v", m)
	}
	c, err := b.costOf(context.Background(), SDKClients(testConfig()).Cost, "shop", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "cost", []byte(shell.Render(CostReport("shop", c))))
	golden(t, "cost-first-day", []byte(shell.Render(CostReport("shop", Cost{FirstDay: true, Known: true, Start: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}))))
}
