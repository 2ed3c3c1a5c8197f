package digest

import (
	"context"
	"fmt"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
)

// maxCostServices is how many services `cost APP` lists before "other".
const maxCostServices = 10

// CostMessage is `cost APP`: the app's month to date, the same days of last
// month and the month's forecast, by service. It shares the digest's cache
// (Cost Explorer bills every call).
func (b *Builder) CostMessage(ctx context.Context, app *blueprints.ResolvedApp) (bot.Message, error) {
	cl, err := b.opts.Clients(ctx, app)
	if err != nil {
		return bot.Message{}, fmt.Errorf("cost of %s: %w", app.Name, err)
	}
	c, err := b.costOf(ctx, cl.Cost, app.Name, b.opts.Clock().UTC())
	if err != nil {
		return bot.Message{}, fmt.Errorf("cost of %s: %w", app.Name, err)
	}
	return CostReport(app.Name, c), nil
}

// CostReport renders c for `cost APP`.
func CostReport(app string, c Cost) bot.Message {
	m := bot.Message{Title: "Cost of " + app + " — " + c.Start.Format("January 2006")}
	if c.FirstDay {
		m.Text = "First day of the month: no whole day to count yet."
		return m
	}
	last := c.End.AddDate(0, 0, -1)
	m.Fields = []bot.Field{
		{Name: "Month to date (" + c.Start.Format("Jan 2") + "–" + last.Format("Jan 2") + ")", Value: money(c.MonthToDate) + " " + c.Unit},
		{Name: "Same days of " + c.PrevStart.Format("January"), Value: previousText(c)},
		{Name: "Forecast for " + c.Start.Format("January"), Value: forecastText(c)},
	}
	if len(c.Services) > 0 {
		t := &bot.Table{Columns: []string{"Service", "Month to date", "Share"}}
		for _, s := range c.TopServices(maxCostServices) {
			share := "—"
			if c.MonthToDate > 0 {
				share = fmt.Sprintf("%.0f%%", s.Amount/c.MonthToDate*100)
			}
			t.Rows = append(t.Rows, []string{shortService(s.Service), money(s.Amount) + " " + c.Unit, share})
		}
		m.Table = t
	}
	m.Context = []string{"cost: " + c.Scope + ", whole days, as of " + c.AsOf.UTC().Format("Jan 2 15:04 MST") + " (Cost Explorer answers are cached)"}
	return m
}

func previousText(c Cost) string {
	s := money(c.Previous) + " " + c.Unit
	if c.Previous > 0 {
		s += fmt.Sprintf(" (now %+.0f%%)", (c.MonthToDate/c.Previous-1)*100)
	}
	return s
}

func forecastText(c Cost) string {
	if !c.ForecastKnown {
		return "not available (Cost Explorer needs more history)"
	}
	return money(c.Forecast) + " " + c.Unit
}
