package digest

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/internal/clocktest"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCostWindows(t *testing.T) {
	for _, tc := range []struct {
		now                            string
		start, end, prevStart, prevEnd string
	}{
		{"2026-03-01T09:00:00Z", "2026-03-01", "2026-03-01", "2026-02-01", "2026-02-01"}, // first day: empty
		{"2026-03-02T00:00:00Z", "2026-03-01", "2026-03-02", "2026-02-01", "2026-02-02"},
		{"2026-03-15T23:59:59Z", "2026-03-01", "2026-03-15", "2026-02-01", "2026-02-15"},
		{"2026-03-31T12:00:00Z", "2026-03-01", "2026-03-31", "2026-02-01", "2026-03-01"},      // clamped to February
		{"2026-01-10T12:00:00Z", "2026-01-01", "2026-01-10", "2025-12-01", "2025-12-10"},      // across the year
		{"2028-03-31T12:00:00Z", "2028-03-01", "2028-03-31", "2028-02-01", "2028-03-01"},      // leap February, whole
		{"2026-05-31T01:00:00+02:00", "2026-05-01", "2026-05-30", "2026-04-01", "2026-04-30"}, // UTC day decides
	} {
		now, err := time.Parse(time.RFC3339, tc.now)
		if err != nil {
			t.Fatal(err)
		}
		s, e, ps, pe := CostWindows(now)
		got := [4]string{s.Format(time.DateOnly), e.Format(time.DateOnly), ps.Format(time.DateOnly), pe.Format(time.DateOnly)}
		want := [4]string{tc.start, tc.end, tc.prevStart, tc.prevEnd}
		if got != want {
			t.Errorf("CostWindows(%s) = %v, want %v", tc.now, got, want)
		}
	}
}

// TestCostCachedAndFirstDay: the first call asks Cost Explorer once for
// both windows, the next within 6h is served from the cache, a later one
// asks again; on the 1st nothing is asked at all.
func TestCostCachedAndFirstDay(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	b := newBuilder(t, openStore(t, clk.Now), clk.Now, func(o *Options) { o.CostTag = "app" })
	ce := SDKClients(testConfig()).Cost
	before := emu.Count("ce:GetCostAndUsage")

	c, err := b.costOf(ctx, ce, "shop", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !c.Known || c.FirstDay || c.MonthToDate <= 0 || c.Previous <= 0 || c.Scope != "tag app=shop" {
		t.Fatalf("cost = %+v", c)
	}
	// The emulator's account cost per day is deterministic; the tag
	// filter takes a stable share of it, the same share for both windows.
	var mtd, prev float64
	for d := day("2026-11-01"); d.Before(day("2026-11-25")); d = d.AddDate(0, 0, 1) {
		mtd += float64(emulatorDaily(d))
	}
	for d := day("2026-10-01"); d.Before(day("2026-10-25")); d = d.AddDate(0, 0, 1) {
		prev += float64(emulatorDaily(d))
	}
	if r1, r2 := c.MonthToDate/mtd, c.Previous/prev; r1 < 0.19 || r1 > 0.6 || r2 < 0.19 || r2 > 0.6 {
		t.Errorf("shares %.3f %.3f of account cost, want 0.2..0.6", r1, r2)
	}

	clk.Set(clk.Now().Add(5 * time.Hour))
	if _, err := b.costOf(ctx, ce, "shop", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if got := emu.Count("ce:GetCostAndUsage") - before; got != 1 {
		t.Errorf("calls within 6h = %d, want 1", got)
	}
	clk.Set(clk.Now().Add(2 * time.Hour))
	if _, err := b.costOf(ctx, ce, "shop", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if got := emu.Count("ce:GetCostAndUsage") - before; got != 2 {
		t.Errorf("calls after 7h = %d, want 2", got)
	}

	first := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	c, err = b.costOf(ctx, ce, "shop", first)
	if err != nil {
		t.Fatal(err)
	}
	if !c.FirstDay || costText(c) != "first day of the month, no cost yet" {
		t.Errorf("first day: %+v %q", c, costText(c))
	}
	if got := emu.Count("ce:GetCostAndUsage") - before; got != 2 {
		t.Errorf("calls on the 1st = %d, want none more", got)
	}
}

// emulatorDaily is the emulator's account cost of a day in USD.
func emulatorDaily(d time.Time) float64 {
	return float64(12000+int64(d.YearDay()%10)*350) / 100
}

// TestCostForecastAndServices asks the emulator's Cost Explorer over the
// wire: the month's forecast is the month to date plus GetCostForecast of
// the days left (the emulator predicts its deterministic cost, so the
// forecast is exactly the month's total), the services are sorted and add
// up to the month to date, and both calls are cached together.
func TestCostForecastAndServices(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	b := newBuilder(t, openStore(t, clk.Now), clk.Now, func(o *Options) { o.CostTag = "app" })
	ce := SDKClients(testConfig()).Cost
	usage, forecasts := emu.Count("ce:GetCostAndUsage"), emu.Count("ce:GetCostForecast")

	c, err := b.costOf(ctx, ce, "forecast-app", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !c.ForecastKnown {
		t.Fatalf("no forecast: %+v", c)
	}
	share := c.MonthToDate / sumDaily(day("2026-11-01"), day("2026-11-25"))
	if want := share * sumDaily(day("2026-11-01"), day("2026-12-01")); math.Abs(c.Forecast-want) > 0.05*float64(31) {
		t.Errorf("forecast %.2f, want about %.2f (the month at the app's share %.3f)", c.Forecast, want, share)
	}
	if len(c.Services) != 5 || c.Services[0].Service != "Amazon Elastic Compute Cloud - Compute" {
		t.Fatalf("services %+v", c.Services)
	}
	var sum float64
	for i, s := range c.Services {
		sum += s.Amount
		if i > 0 && s.Amount > c.Services[i-1].Amount {
			t.Errorf("services not sorted: %+v", c.Services)
		}
	}
	if math.Abs(sum-c.MonthToDate) > 0.01 {
		t.Errorf("services add up to %.2f, month to date %.2f", sum, c.MonthToDate)
	}
	if top := c.TopServices(3); len(top) != 4 || top[3].Service != "other" || math.Abs(top[3].Amount-c.Services[3].Amount-c.Services[4].Amount) > 0.001 {
		t.Errorf("top 3 %+v", top)
	}
	if len(c.Days) != 24*5 {
		t.Errorf("%d day rows, want 24 days × 5 services", len(c.Days))
	}
	text := costText(c)
	if !strings.Contains(text, "forecast ") || !strings.Contains(text, " for November") {
		t.Errorf("cost text %q", text)
	}
	clk.Set(clk.Now().Add(time.Hour))
	if _, err := b.costOf(ctx, ce, "forecast-app", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if u, f := emu.Count("ce:GetCostAndUsage")-usage, emu.Count("ce:GetCostForecast")-forecasts; u != 1 || f != 1 {
		t.Errorf("calls: %d GetCostAndUsage, %d GetCostForecast; want one each", u, f)
	}
}

// sumDaily is the emulator's account cost over [from, to) in USD.
func sumDaily(from, to time.Time) float64 {
	var s float64
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		s += emulatorDaily(d)
	}
	return s
}
