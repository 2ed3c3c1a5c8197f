package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Cost Explorer fill-in. kumo's GetCostAndUsage answers a constant; digests
// compare month-to-date with the previous month, so the emulator answers
// from a deterministic cost per day (DailyCostCents) over the requested
// [Start, End) — End exclusive, as AWS has it — at DAILY or MONTHLY
// granularity, optionally grouped by SERVICE. A Filter (e.g. the app's tag)
// scales the account's cost by a stable share derived from the filter, so
// two apps get different, repeatable numbers.
//
// GetCostForecast predicts the same deterministic cost for the requested
// future days (mean) with a prediction interval of ±10 % at the default
// 80 % level (±15 % at 95), as AWS words it: a Total plus one result per
// DAILY or MONTHLY period. AWS also refuses a window starting before the
// current UTC day; the emulator does not, as tests pin the caller's clock
// to days it has already passed.

// costServices splits a day's cost across services, in percent.
var costServices = []struct {
	name  string
	share int64
}{
	{"Amazon Elastic Compute Cloud - Compute", 45},
	{"Amazon Relational Database Service", 25},
	{"Amazon Elastic Container Service", 15},
	{"Amazon Simple Storage Service", 10},
	{"AmazonCloudWatch", 5},
}

// DailyCostCents is the whole account's cost of one UTC day in cents:
// 120.00 USD plus 3.50 USD times (day of year mod 10).
func DailyCostCents(day time.Time) int64 {
	return 12000 + int64(day.UTC().YearDay()%10)*350
}

// FilterSharePercent is the share of the account's cost a filter selects:
// 20 to 59 percent, from a hash of the filter as sent; no filter is 100.
func FilterSharePercent(filterJSON []byte) int64 {
	if len(filterJSON) == 0 || string(filterJSON) == "null" {
		return 100
	}
	return 20 + int64(fnv32(string(filterJSON))%40)
}

func (s *Server) registerCostExplorer() {
	s.Handle("ce:GetCostAndUsage", getCostAndUsage)
	s.Handle("ce:GetCostForecast", getCostForecast)
}

type ceAmount struct {
	Amount string
	Unit   string
}

type ceInterval struct{ Start, End string }

type ceGroup struct {
	Keys    []string
	Metrics map[string]ceAmount
}

type ceResult struct {
	TimePeriod ceInterval
	Total      map[string]ceAmount `json:",omitempty"`
	Groups     []ceGroup           `json:",omitempty"`
	Estimated  bool
}

func getCostAndUsage(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		TimePeriod  *ceInterval
		Granularity string
		Metrics     []string
		Filter      json.RawMessage
		GroupBy     []struct{ Type, Key string }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		WriteJSONError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	fail := func(msg string) { WriteJSONError(w, http.StatusBadRequest, "ValidationException", msg) }
	if in.TimePeriod == nil || len(in.Metrics) == 0 {
		fail("TimePeriod and Metrics are required")
		return
	}
	start, err1 := time.Parse(time.DateOnly, in.TimePeriod.Start)
	end, err2 := time.Parse(time.DateOnly, in.TimePeriod.End)
	if err1 != nil || err2 != nil || !start.Before(end) {
		fail("Start date must be a YYYY-MM-DD date before the End date")
		return
	}
	byService := false
	for _, g := range in.GroupBy {
		if g.Type != "DIMENSION" || g.Key != "SERVICE" {
			fail(fmt.Sprintf("the emulator groups by DIMENSION SERVICE only, not %s %s", g.Type, g.Key))
			return
		}
		byService = true
	}
	var next func(time.Time) time.Time
	switch in.Granularity {
	case "DAILY":
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	case "MONTHLY", "":
		next = func(t time.Time) time.Time { return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC) }
	default:
		fail("Granularity must be DAILY or MONTHLY (HOURLY needs an opt-in the emulator does not model)")
		return
	}
	share := FilterSharePercent(in.Filter)
	var out struct {
		ResultsByTime []ceResult
	}
	for t := start; t.Before(end); {
		segEnd := next(t)
		if segEnd.After(end) {
			segEnd = end
		}
		var cents int64
		for d := t; d.Before(segEnd); d = d.AddDate(0, 0, 1) {
			cents += DailyCostCents(d) * share / 100
		}
		res := ceResult{TimePeriod: ceInterval{t.Format(time.DateOnly), segEnd.Format(time.DateOnly)}}
		if byService {
			for _, svc := range costServices {
				res.Groups = append(res.Groups, ceGroup{Keys: []string{svc.name}, Metrics: ceMetrics(in.Metrics, cents*svc.share/100)})
			}
			res.Total = map[string]ceAmount{}
		} else {
			res.Total = ceMetrics(in.Metrics, cents)
		}
		out.ResultsByTime = append(out.ResultsByTime, res)
		t = segEnd
	}
	writeJSON(w, out)
}

func ceMetrics(metrics []string, cents int64) map[string]ceAmount {
	m := make(map[string]ceAmount, len(metrics))
	for _, name := range metrics {
		if name == "UsageQuantity" {
			m[name] = ceAmount{Amount: fmt.Sprintf("%d", cents/10), Unit: "N/A"}
			continue
		}
		m[name] = ceAmount{Amount: fmt.Sprintf("%d.%02d", cents/100, cents%100), Unit: "USD"}
	}
	return m
}

// ceForecastMetrics are the Metric values GetCostForecast accepts.
var ceForecastMetrics = map[string]bool{
	"AMORTIZED_COST": true, "BLENDED_COST": true, "NET_AMORTIZED_COST": true,
	"NET_UNBLENDED_COST": true, "UNBLENDED_COST": true,
}

type ceForecastResult struct {
	TimePeriod                   ceInterval
	MeanValue                    string
	PredictionIntervalLowerBound string
	PredictionIntervalUpperBound string
}

func getCostForecast(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		TimePeriod              *ceInterval
		Metric                  string
		Granularity             string
		Filter                  json.RawMessage
		PredictionIntervalLevel int
	}
	if err := json.Unmarshal(body, &in); err != nil {
		WriteJSONError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	fail := func(msg string) { WriteJSONError(w, http.StatusBadRequest, "ValidationException", msg) }
	if in.TimePeriod == nil || in.Metric == "" || in.Granularity == "" {
		fail("TimePeriod, Metric and Granularity are required")
		return
	}
	if !ceForecastMetrics[in.Metric] {
		fail(fmt.Sprintf("Metric %q is not one of AMORTIZED_COST, BLENDED_COST, NET_AMORTIZED_COST, NET_UNBLENDED_COST, UNBLENDED_COST", in.Metric))
		return
	}
	start, err1 := time.Parse(time.DateOnly, in.TimePeriod.Start)
	end, err2 := time.Parse(time.DateOnly, in.TimePeriod.End)
	if err1 != nil || err2 != nil || !start.Before(end) {
		fail("Start date must be a YYYY-MM-DD date before the End date")
		return
	}
	var next func(time.Time) time.Time
	switch in.Granularity {
	case "DAILY":
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	case "MONTHLY":
		next = func(t time.Time) time.Time { return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC) }
	default:
		fail("Granularity must be DAILY or MONTHLY")
		return
	}
	spread := int64(10)
	switch in.PredictionIntervalLevel {
	case 0, 80:
	case 95:
		spread = 15
	default:
		fail("PredictionIntervalLevel must be between 51 and 99; the emulator models 80 and 95")
		return
	}
	share := FilterSharePercent(in.Filter)
	var out struct {
		Total                 ceAmount
		ForecastResultsByTime []ceForecastResult
	}
	var total int64
	for t := start; t.Before(end); {
		segEnd := next(t)
		if segEnd.After(end) {
			segEnd = end
		}
		var cents int64
		for d := t; d.Before(segEnd); d = d.AddDate(0, 0, 1) {
			cents += DailyCostCents(d) * share / 100
		}
		total += cents
		out.ForecastResultsByTime = append(out.ForecastResultsByTime, ceForecastResult{
			TimePeriod: ceInterval{t.Format(time.DateOnly), segEnd.Format(time.DateOnly)},
			MeanValue:  centsText(cents), PredictionIntervalLowerBound: centsText(cents * (100 - spread) / 100),
			PredictionIntervalUpperBound: centsText(cents * (100 + spread) / 100),
		})
		t = segEnd
	}
	out.Total = ceAmount{Amount: centsText(total), Unit: "USD"}
	writeJSON(w, out)
}

func centsText(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }
