package emulator

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CloudWatch metric data: PutMetricData pins a series' level, GetMetricData
// answers with deterministic synthetic datapoints that honour Stat and
// Period (kumo ignores both), within AWS's per-call limits.

// PutMetricData pins each datum's series to its value (see SetMetric).
func (st *cwState) putMetricData(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Namespace  string
		MetricData []struct {
			MetricName string
			Dimensions []cwDimension
			Value      *float64
		}
	}
	if !st.decode(w, r, body, &in) {
		return
	}
	if in.Namespace == "" || len(in.MetricData) == 0 {
		WriteCBORError(w, http.StatusBadRequest, "MissingParameter", "Namespace and MetricData are required")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, d := range in.MetricData {
		if d.Value != nil {
			st.levels[seriesKey(in.Namespace, d.MetricName, d.Dimensions)] = *d.Value
		}
	}
	st.write(w, struct{}{})
}

type cwMetricStat struct {
	Metric struct {
		Namespace, MetricName string
		Dimensions            []cwDimension
	}
	Period int32
	Stat   string
	Unit   string
}

type cwQuery struct {
	Id, Label, Expression string
	MetricStat            *cwMetricStat
	ReturnData            *bool
}

type cwResult struct {
	Id         string
	Label      string
	Timestamps []time.Time
	Values     []float64
	StatusCode string
}

// Limits AWS enforces on one GetMetricData call.
const (
	cwMaxQueries    = 500
	cwMaxDatapoints = 100800
)

// getMetricData answers with deterministic synthetic datapoints: one per
// Period, at period-aligned timestamps in [StartTime, EndTime), whose value
// is a function of (series, Stat, Period, timestamp) only — or the pinned
// level of a series set with PutMetricData. Queries whose points do not fit
// MaxDatapoints move to the next page (NextToken).
func (st *cwState) getMetricData(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		MetricDataQueries  []cwQuery
		StartTime, EndTime time.Time
		NextToken          string
		ScanBy             string
		MaxDatapoints      int32
	}
	if !st.decode(w, r, body, &in) {
		return
	}
	fail := func(msg string) { WriteCBORError(w, http.StatusBadRequest, "ValidationError", msg) }
	switch {
	case len(in.MetricDataQueries) == 0 || len(in.MetricDataQueries) > cwMaxQueries:
		fail(fmt.Sprintf("MetricDataQueries must hold 1 to %d queries", cwMaxQueries))
		return
	case !in.StartTime.Before(in.EndTime):
		fail("The parameter StartTime must be less than the parameter EndTime.")
		return
	}
	max := cwMaxDatapoints
	if in.MaxDatapoints > 0 {
		max = int(in.MaxDatapoints)
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, "q:"))
		if err != nil || n < 0 || n >= len(in.MetricDataQueries) {
			WriteCBORError(w, http.StatusBadRequest, "InvalidNextToken", "The service couldn't process the token")
			return
		}
		start = n
	}
	var out struct {
		MetricDataResults []cwResult `cbor:",omitempty"`
		NextToken         string     `cbor:",omitempty"`
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	budget := max
	for i := start; i < len(in.MetricDataQueries); i++ {
		q := in.MetricDataQueries[i]
		if q.Expression != "" || q.MetricStat == nil {
			fail("query " + q.Id + ": only MetricStat queries are emulated, not expressions")
			return
		}
		ms := q.MetricStat
		if ms.Period <= 0 || (ms.Period >= 60 && ms.Period%60 != 0) || ms.Stat == "" {
			fail("query " + q.Id + ": Period must be a positive multiple of 60 (or 1, 5, 10, 30) and Stat is required")
			return
		}
		stamps := periodStamps(in.StartTime, in.EndTime, time.Duration(ms.Period)*time.Second)
		if len(stamps) > max {
			fail(fmt.Sprintf("query %s: %d datapoints exceed the limit of %d per call; use a longer Period", q.Id, len(stamps), max))
			return
		}
		if len(stamps) > budget {
			out.NextToken = "q:" + strconv.Itoa(i)
			break
		}
		budget -= len(stamps)
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}
		if in.ScanBy != "TimestampAscending" {
			for a, b := 0, len(stamps)-1; a < b; a, b = a+1, b-1 {
				stamps[a], stamps[b] = stamps[b], stamps[a]
			}
		}
		key := seriesKey(ms.Metric.Namespace, ms.Metric.MetricName, ms.Metric.Dimensions)
		level, pinned := st.levels[key]
		res := cwResult{Id: q.Id, Label: q.Label, Timestamps: stamps, Values: make([]float64, len(stamps)), StatusCode: "Complete"}
		if res.Label == "" {
			res.Label = ms.Metric.MetricName
		}
		for j, ts := range stamps {
			res.Values[j] = syntheticValue(key, ms.Stat, ms.Period, ts, level, pinned)
		}
		out.MetricDataResults = append(out.MetricDataResults, res)
	}
	st.write(w, out)
}

// Datapoints one GetMetricStatistics call may return.
const cwMaxStatisticsPoints = 1440

// getMetricStatistics answers from the same series as GetMetricData, so
// both APIs agree; datapoints come oldest first, as AWS returns them.
func (st *cwState) getMetricStatistics(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		Namespace, MetricName string
		Dimensions            []cwDimension
		StartTime, EndTime    time.Time
		Period                int32
		Statistics            []string
		ExtendedStatistics    []string
		Unit                  string
	}
	if !st.decode(w, r, body, &in) {
		return
	}
	fail := func(msg string) { WriteCBORError(w, http.StatusBadRequest, "InvalidParameterValue", msg) }
	switch {
	case in.Namespace == "" || in.MetricName == "" || in.Period <= 0:
		fail("Namespace, MetricName and a positive Period are required")
		return
	case len(in.Statistics)+len(in.ExtendedStatistics) == 0:
		fail("one of Statistics or ExtendedStatistics is required")
		return
	case !in.StartTime.Before(in.EndTime):
		fail("The parameter StartTime must be less than the parameter EndTime.")
		return
	}
	stamps := periodStamps(in.StartTime, in.EndTime, time.Duration(in.Period)*time.Second)
	if len(stamps) > cwMaxStatisticsPoints {
		fail(fmt.Sprintf("You have requested up to %d datapoints, which exceeds the limit of %d.", len(stamps), cwMaxStatisticsPoints))
		return
	}
	type datapoint struct {
		Timestamp                                   time.Time
		SampleCount, Average, Sum, Minimum, Maximum *float64           `cbor:",omitempty"`
		ExtendedStatistics                          map[string]float64 `cbor:",omitempty"`
		Unit                                        string             `cbor:",omitempty"`
	}
	st.mu.Lock()
	key := seriesKey(in.Namespace, in.MetricName, in.Dimensions)
	level, pinned := st.levels[key]
	st.mu.Unlock()
	out := struct {
		Label      string
		Datapoints []datapoint
	}{Label: in.MetricName, Datapoints: []datapoint{}}
	for _, ts := range stamps {
		dp := datapoint{Timestamp: ts, Unit: in.Unit}
		for _, stat := range in.Statistics {
			v := syntheticValue(key, stat, in.Period, ts, level, pinned)
			switch stat {
			case "SampleCount":
				dp.SampleCount = &v
			case "Average":
				dp.Average = &v
			case "Sum":
				dp.Sum = &v
			case "Minimum":
				dp.Minimum = &v
			case "Maximum":
				dp.Maximum = &v
			}
		}
		for _, stat := range in.ExtendedStatistics {
			if dp.ExtendedStatistics == nil {
				dp.ExtendedStatistics = map[string]float64{}
			}
			dp.ExtendedStatistics[stat] = syntheticValue(key, stat, in.Period, ts, level, pinned)
		}
		out.Datapoints = append(out.Datapoints, dp)
	}
	st.write(w, out)
}

// periodStamps lists the period starts t with start <= t < end, aligned to
// the period like CloudWatch's own aggregation buckets.
func periodStamps(start, end time.Time, period time.Duration) []time.Time {
	t := start.UTC().Truncate(period)
	if t.Before(start) {
		t = t.Add(period)
	}
	var out []time.Time
	for ; t.Before(end); t = t.Add(period) {
		out = append(out, t)
	}
	return out
}

// syntheticValue is the emulator's metric: a level between 5 and 65 picked
// by the series, a daily wave, and per-point jitter, all from hashes, so the
// same question always gets the same answer. Stat shapes it the way the
// statistic would: Maximum above Average, Minimum below, Sum and
// SampleCount scaled by the samples (one per minute) in the period.
func syntheticValue(series, stat string, period int32, ts time.Time, level float64, pinned bool) float64 {
	samples := max(float64(period)/60, 1)
	avg := level
	if !pinned {
		base := 5 + float64(fnv32(series)%6000)/100
		day := float64(ts.Unix()%86400) / 86400
		wave := 10 * triangle(day)
		jitter := float64(fnv32(series+"|"+strconv.FormatInt(ts.Unix(), 10))%500) / 100
		avg = base + wave + jitter
	}
	spread := 0.0
	if !pinned {
		spread = 0.2 * avg
	}
	switch {
	case stat == "Sum":
		return avg * samples
	case stat == "SampleCount":
		return samples
	case stat == "Maximum" || strings.HasPrefix(stat, "p9"):
		return avg + spread
	case stat == "Minimum":
		return avg - spread
	default: // Average and the other percentiles
		return avg
	}
}

// triangle maps [0,1) to 0..1..0.
func triangle(x float64) float64 {
	if x < 0.5 {
		return 2 * x
	}
	return 2 - 2*x
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// seriesKey identifies a metric series: namespace, name and its dimensions
// in name order (CloudWatch treats dimension order as insignificant).
func seriesKey(namespace, metric string, dims []cwDimension) string {
	parts := make([]string, 0, len(dims))
	for _, d := range dims {
		parts = append(parts, d.Name+"="+d.Value)
	}
	sort.Strings(parts)
	return namespace + "|" + metric + "|" + strings.Join(parts, ",") + "|" + strconv.Itoa(len(parts))
}
