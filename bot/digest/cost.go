package digest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
)

// CostAPI is the Cost Explorer calls a digest makes: one GetCostAndUsage
// (daily, by service, over both windows) and one GetCostForecast per app.
// Each request is billed (USD 0.01 at the time of writing), so results are
// cached.
type CostAPI interface {
	GetCostAndUsage(ctx context.Context, in *costexplorer.GetCostAndUsageInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetCostAndUsageOutput, error)
	GetCostForecast(ctx context.Context, in *costexplorer.GetCostForecastInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetCostForecastOutput, error)
}

var _ CostAPI = (*costexplorer.Client)(nil)

// Cost is the month so far against the same days of the previous month.
type Cost struct {
	// MonthToDate covers [Start, End); Previous covers [PrevStart, PrevEnd).
	Start, End         time.Time
	PrevStart, PrevEnd time.Time
	MonthToDate        float64
	Previous           float64
	Unit               string
	// FirstDay is true on the 1st: no whole day of the month has passed,
	// so there is nothing to ask (Cost Explorer rejects Start == End).
	FirstDay bool
	// Scope says what was counted: "tag app=shop" or "whole account".
	Scope string
	// AsOf is when Cost Explorer was asked (the value may be cached).
	AsOf time.Time
	// Known is false when cost was not collected.
	Known bool
	// Forecast is the whole month's cost as Cost Explorer predicts it:
	// MonthToDate plus the forecast of the days left. ForecastKnown is
	// false when Cost Explorer had no forecast (too little history).
	Forecast      float64
	ForecastKnown bool
	// Services are the month to date by service, most expensive first.
	Services []ServiceCost
	// Days are the month to date by day and service, for reports.
	Days []DayCost
}

// ServiceCost is one service's share.
type ServiceCost struct {
	Service string
	Amount  float64
}

// DayCost is one service's cost on one day.
type DayCost struct {
	Day     time.Time
	Service string
	Amount  float64
}

// TopServices are the n most expensive services, the rest summed as
// "other".
func (c Cost) TopServices(n int) []ServiceCost {
	if len(c.Services) <= n {
		return c.Services
	}
	out := slices.Clone(c.Services[:n])
	var rest float64
	for _, s := range c.Services[n:] {
		rest += s.Amount
	}
	return append(out, ServiceCost{Service: "other", Amount: rest})
}

// CostWindows returns the month-to-date window [start, end) of the UTC day
// of now (whole days only: Cost Explorer's End is exclusive, and today is
// not over) and the same days of the previous month, clamped to its length
// (the 31st of March compares with all of February). On the 1st the
// month-to-date window is empty: start == end.
func CostWindows(now time.Time) (start, end, prevStart, prevEnd time.Time) {
	now = now.UTC()
	end = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	start = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	prevStart = start.AddDate(0, -1, 0)
	prevEnd = prevStart.AddDate(0, 0, now.Day()-1)
	if prevEnd.After(start) {
		prevEnd = start
	}
	return start, end, prevStart, prevEnd
}

type costEntry struct {
	cost Cost
	rows []bot.CostRow // for reports
	at   time.Time
}

type costCache struct {
	mu      sync.Mutex
	entries map[string]costEntry
}

// costOf returns the app's cost, from the cache when it was asked less than
// CostTTL ago on the same UTC day.
func (b *Builder) costOf(ctx context.Context, c CostAPI, app string, now time.Time) (Cost, error) {
	start, end, prevStart, prevEnd := CostWindows(now)
	scope := "whole account"
	if b.opts.CostTag != "" {
		scope = "tag " + b.opts.CostTag + "=" + app
	}
	cost := Cost{Start: start, End: end, PrevStart: prevStart, PrevEnd: prevEnd, Scope: scope, Unit: "USD", AsOf: now}
	if !start.Before(end) {
		cost.FirstDay, cost.Known = true, true
		return cost, nil
	}
	key := app + "|" + end.Format(time.DateOnly)
	b.cost.mu.Lock()
	e, ok := b.cost.entries[key]
	b.cost.mu.Unlock()
	if ok && now.Sub(e.at) < b.opts.CostTTL {
		return e.cost, nil
	}
	// One DAILY request over both windows, by service, is half the price
	// of two; the services' sum is the total.
	days, unit, err := b.dailyCost(ctx, c, app, prevStart, end)
	if err != nil {
		return Cost{}, err
	}
	if unit != "" {
		cost.Unit = unit
	}
	byService := map[string]float64{}
	for _, d := range days {
		switch {
		case !d.Day.Before(start) && d.Day.Before(end):
			cost.MonthToDate += d.Amount
			byService[d.Service] += d.Amount
			cost.Days = append(cost.Days, d)
		case !d.Day.Before(prevStart) && d.Day.Before(prevEnd):
			cost.Previous += d.Amount
		}
	}
	for svc, v := range byService {
		cost.Services = append(cost.Services, ServiceCost{Service: svc, Amount: v})
	}
	slices.SortFunc(cost.Services, func(a, b ServiceCost) int {
		return cmp.Or(cmp.Compare(b.Amount, a.Amount), strings.Compare(a.Service, b.Service))
	})
	if f, ok, err := b.forecast(ctx, c, app, end); err != nil {
		return Cost{}, err
	} else if ok {
		cost.Forecast, cost.ForecastKnown = cost.MonthToDate+f, true
	}
	cost.Known = true
	b.cost.mu.Lock()
	b.cost.entries[key] = costEntry{cost: cost, at: now}
	b.cost.mu.Unlock()
	return cost, nil
}

// costFilter narrows Cost Explorer to the app's cost-allocation tag; nil
// (the whole account) without one.
func (b *Builder) costFilter(app string) *cetypes.Expression {
	if b.opts.CostTag == "" {
		return nil
	}
	return &cetypes.Expression{Tags: &cetypes.TagValues{
		Key: aws.String(b.opts.CostTag), Values: []string{app}, MatchOptions: []cetypes.MatchOption{cetypes.MatchOptionEquals},
	}}
}

// forecast is Cost Explorer's forecast of the app's cost from from (today)
// to the end of its month. ok is false when there is nothing to forecast
// (the month's last day is over) or Cost Explorer has too little history
// to forecast (DataUnavailableException): the digest goes on without.
func (b *Builder) forecast(ctx context.Context, c CostAPI, app string, from time.Time) (float64, bool, error) {
	monthEnd := time.Date(from.Year(), from.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	if !from.Before(monthEnd) {
		return 0, false, nil
	}
	out, err := c.GetCostForecast(ctx, &costexplorer.GetCostForecastInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(from.Format(time.DateOnly)), End: aws.String(monthEnd.Format(time.DateOnly))},
		Metric:      cetypes.MetricUnblendedCost,
		Granularity: cetypes.GranularityMonthly,
		Filter:      b.costFilter(app),
	})
	var unavailable *cetypes.DataUnavailableException
	if errors.As(err, &unavailable) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("get cost forecast: %w", err)
	}
	if out.Total == nil {
		return 0, false, nil
	}
	v, err := strconv.ParseFloat(aws.ToString(out.Total.Amount), 64)
	if err != nil {
		return 0, false, fmt.Errorf("get cost forecast: bad amount %q: %w", aws.ToString(out.Total.Amount), err)
	}
	return v, true, nil
}

// amount reads UnblendedCost of a result; ok is false when it is absent.
func amount(m map[string]cetypes.MetricValue) (v float64, unit string, ok bool, err error) {
	mv, ok := m["UnblendedCost"]
	if !ok {
		return 0, "", false, nil
	}
	v, err = strconv.ParseFloat(aws.ToString(mv.Amount), 64)
	if err != nil {
		return 0, "", false, fmt.Errorf("get cost and usage: bad amount %q: %w", aws.ToString(mv.Amount), err)
	}
	return v, aws.ToString(mv.Unit), true, nil
}

// dailyCost is the app's cost by day and service over [from, to), whole
// UTC days, in one paged GetCostAndUsage; unit is "" when nothing came.
func (b *Builder) dailyCost(ctx context.Context, c CostAPI, app string, from, to time.Time) ([]DayCost, string, error) {
	in := &costexplorer.GetCostAndUsageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(from.Format(time.DateOnly)), End: aws.String(to.Format(time.DateOnly))},
		Granularity: cetypes.GranularityDaily,
		Metrics:     []string{"UnblendedCost"},
		GroupBy:     []cetypes.GroupDefinition{{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("SERVICE")}},
		Filter:      b.costFilter(app),
	}
	var out []DayCost
	unit := ""
	for {
		page, err := c.GetCostAndUsage(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("get cost and usage: %w", err)
		}
		for _, r := range page.ResultsByTime {
			if r.TimePeriod == nil {
				continue
			}
			day, err := time.Parse(time.DateOnly, aws.ToString(r.TimePeriod.Start))
			if err != nil {
				return nil, "", fmt.Errorf("get cost and usage: bad date %q: %w", aws.ToString(r.TimePeriod.Start), err)
			}
			for _, g := range r.Groups {
				v, u, ok, err := amount(g.Metrics)
				if err != nil {
					return nil, "", err
				}
				if !ok {
					continue
				}
				if u != "" {
					unit = u
				}
				out = append(out, DayCost{Day: day, Service: strings.Join(g.Keys, " "), Amount: v})
			}
		}
		if aws.ToString(page.NextPageToken) == "" {
			return out, unit, nil
		}
		in.NextPageToken = page.NextPageToken
	}
}

// CostRows is the app's cost by day and service over [from, to) for
// `report APP` (bot.Options.CostRows), cached like the digest's cost.
func (b *Builder) CostRows(ctx context.Context, app *blueprints.ResolvedApp, from, to time.Time) ([]bot.CostRow, error) {
	now := b.opts.Clock().UTC()
	key := "rows|" + app.Name + "|" + from.Format(time.DateOnly) + "|" + to.Format(time.DateOnly)
	b.cost.mu.Lock()
	e, ok := b.cost.entries[key]
	b.cost.mu.Unlock()
	if ok && now.Sub(e.at) < b.opts.CostTTL {
		return e.rows, nil
	}
	cl, err := b.opts.Clients(ctx, app)
	if err != nil {
		return nil, fmt.Errorf("cost of %s: %w", app.Name, err)
	}
	days, unit, err := b.dailyCost(ctx, cl.Cost, app.Name, from, to)
	if err != nil {
		return nil, fmt.Errorf("cost of %s: %w", app.Name, err)
	}
	rows := make([]bot.CostRow, len(days))
	for i, d := range days {
		rows[i] = bot.CostRow{Day: d.Day, Service: d.Service, Amount: d.Amount, Unit: unit}
	}
	b.cost.mu.Lock()
	b.cost.entries[key] = costEntry{rows: rows, at: now}
	b.cost.mu.Unlock()
	return rows, nil
}
