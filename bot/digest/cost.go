package digest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
)

// CostAPI is the Cost Explorer call a digest makes. Each request is billed
// (USD 0.01 at the time of writing), so results are cached.
type CostAPI interface {
	GetCostAndUsage(ctx context.Context, in *costexplorer.GetCostAndUsageInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetCostAndUsageOutput, error)
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
	// One DAILY request over both windows is half the price of two.
	in := &costexplorer.GetCostAndUsageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(prevStart.Format(time.DateOnly)), End: aws.String(end.Format(time.DateOnly))},
		Granularity: cetypes.GranularityDaily,
		Metrics:     []string{"UnblendedCost"},
	}
	if b.opts.CostTag != "" {
		in.Filter = &cetypes.Expression{Tags: &cetypes.TagValues{
			Key: aws.String(b.opts.CostTag), Values: []string{app}, MatchOptions: []cetypes.MatchOption{cetypes.MatchOptionEquals},
		}}
	}
	for {
		out, err := c.GetCostAndUsage(ctx, in)
		if err != nil {
			return Cost{}, fmt.Errorf("get cost and usage: %w", err)
		}
		for _, r := range out.ResultsByTime {
			if r.TimePeriod == nil {
				continue
			}
			day, err := time.Parse(time.DateOnly, aws.ToString(r.TimePeriod.Start))
			if err != nil {
				return Cost{}, fmt.Errorf("get cost and usage: bad date %q: %w", aws.ToString(r.TimePeriod.Start), err)
			}
			m, ok := r.Total["UnblendedCost"]
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(aws.ToString(m.Amount), 64)
			if err != nil {
				return Cost{}, fmt.Errorf("get cost and usage: bad amount %q: %w", aws.ToString(m.Amount), err)
			}
			if u := aws.ToString(m.Unit); u != "" {
				cost.Unit = u
			}
			switch {
			case !day.Before(start) && day.Before(end):
				cost.MonthToDate += v
			case !day.Before(prevStart) && day.Before(prevEnd):
				cost.Previous += v
			}
		}
		if aws.ToString(out.NextPageToken) == "" {
			break
		}
		in.NextPageToken = out.NextPageToken
	}
	cost.Known = true
	b.cost.mu.Lock()
	b.cost.entries[key] = costEntry{cost: cost, at: now}
	b.cost.mu.Unlock()
	return cost, nil
}
