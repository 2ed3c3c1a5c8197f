package digest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/day2bot/day2bot/blueprints"
)

// CloudWatchAPI is the CloudWatch calls a digest makes (metrics here,
// alarms in alarms.go).
type CloudWatchAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

var _ CloudWatchAPI = (*cloudwatch.Client)(nil)

// GetMetricData limits: queries per call, data points per call, and the
// points a digest wants per query (plenty for a chart, few enough that 500
// queries fit one call).
const (
	maxQueriesPerCall = 500
	maxPointsPerCall  = 100800
	maxPointsPerQuery = 200
)

// periods are the periods a digest reads at; CloudWatch wants multiples of
// 60 s and keeps 1-minute data only for 15 days, 5-minute for 63.
var periods = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour}

// ChoosePeriod is the smallest period at which window fits in at most 200
// points, never finer than floor (the metric's own period, rounded up to
// a whole minute).
func ChoosePeriod(window, floor time.Duration) time.Duration {
	if floor > 0 {
		floor = (floor + time.Minute - 1) / time.Minute * time.Minute
	}
	for _, p := range periods {
		if p >= floor && pointsIn(window, p) <= maxPointsPerQuery {
			return p
		}
	}
	return max(periods[len(periods)-1], floor)
}

// pointsIn is the most points a query over window at period can return.
func pointsIn(window, period time.Duration) int {
	return int((window+period-1)/period) + 1
}

// MetricSummary is one health metric over the window.
type MetricSummary struct {
	Name, Unit string
	// Resource is the blueprint resource the metric is read for ("" for
	// fixed dimensions).
	Resource string
	Stat     string
	Below    bool
	Period   time.Duration
	// Resources is how many series were read; zero with Note set when the
	// metric's resource could not be resolved.
	Resources int
	// Mean is the mean over resources of each one's value over the window;
	// Worst the worst resource's (highest, or lowest for "below" metrics).
	Mean, Worst float64
	WorstID     string
	Level       string // "ok", "warn", "critical", "" for no data
	Warn, Crit  int    // resources at warn and at critical level
	Warning     *float64
	Critical    *float64
	// Series is the mean over resources at each timestamp, for the chart.
	Series []Point
	// Top are the chartTop resources with the worst values, worst first,
	// each with its own series; Band spans the others (their lowest and
	// highest value at each timestamp), so one warm instance among many
	// shows as itself rather than vanishing into the mean.
	Top  []ResourceSeries
	Band []BandPoint
	Note string
}

// ResourceSeries is one resource's series and its folded value.
type ResourceSeries struct {
	ID     string
	Value  float64
	Points []Point
}

// BandPoint is the range of the other resources at one timestamp.
type BandPoint struct {
	T       time.Time
	Low, Hi float64
}

// chartTop is how many resources a chart draws as lines.
const chartTop = 5

// Point is one timestamped value.
type Point struct {
	T time.Time
	V float64
}

// query is one GetMetricData query and what it belongs to.
type query struct {
	id     string
	metric int
	res    string // the dimension value, "" for fixed-dimension metrics
	points int
	from   time.Time // where its series starts: the window's start, earlier for daily metrics
	q      cwtypes.MetricDataQuery
}

// dailyLookback is how far back a metric published once a day (S3's
// bucket size and object count) is read: a day's window holds one point
// of it, which says nothing of where it is heading; two weeks draw a line.
// The summary (mean, worst, level) still covers the window only.
const dailyLookback = 14 * 24 * time.Hour

// seriesFrom is where metric m's series starts for a window [from, to).
func seriesFrom(m blueprints.ResolvedMetric, from, to time.Time) time.Time {
	if m.Period >= 24*time.Hour && to.Sub(from) < dailyLookback {
		return to.Add(-dailyLookback)
	}
	return from
}

// planQueries makes one query per (metric, resource member).
func planQueries(metrics []blueprints.ResolvedMetric, found members, from, to time.Time) ([]query, []MetricSummary) {
	sums := make([]MetricSummary, len(metrics))
	var qs []query
	for i, m := range metrics {
		mfrom := seriesFrom(m, from, to)
		p := ChoosePeriod(to.Sub(mfrom), m.Period)
		sums[i] = MetricSummary{Name: m.Name, Resource: m.Resource, Unit: m.Unit, Stat: m.Stat, Below: m.Below(), Period: p, Warning: m.Warn, Critical: m.Critical}
		members := []string{""}
		dim := m.Dimension
		if m.Resource != "" {
			members = found.ids[m.Resource]
			if dim == "" {
				dim = blueprints.DimensionFor(m.Select.Type)
			}
			if len(members) == 0 || dim == "" {
				sums[i].Note = "not read: digests find " + m.Select.Type + " by id or name only"
				if found.listed[m.Select.Type] {
					sums[i].Note = "no " + m.Resource + " found"
				}
				continue
			}
		}
		for j, id := range members {
			var dims []cwtypes.Dimension
			for _, k := range sortedKeys(m.Dimensions) {
				dims = append(dims, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(m.Dimensions[k])})
			}
			if id != "" {
				dims = append(dims, memberDimensions(m, dim, id, found.dims[id])...)
			}
			qid := "m" + strconv.Itoa(i) + "_" + strconv.Itoa(j)
			qs = append(qs, query{id: qid, metric: i, res: id, points: pointsIn(to.Sub(mfrom), p), from: mfrom, q: cwtypes.MetricDataQuery{
				Id: aws.String(qid),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: aws.String(m.Namespace), MetricName: aws.String(m.Metric.Metric), Dimensions: dims},
					Period: aws.Int32(int32(p / time.Second)),
					Stat:   aws.String(m.Stat),
				},
			}})
		}
	}
	return qs, sums
}

// withMemberDimensions are the namespaces whose metrics take a member's
// extra dimensions: ALB and NLB per-target-group metrics are published per
// (TargetGroup, LoadBalancer), ECS service metrics per (ClusterName,
// ServiceName).
var withMemberDimensions = map[string]bool{
	"AWS/ApplicationELB": true, "AWS/NetworkELB": true, "AWS/ECS": true, "ECS/ContainerInsights": true,
}

// memberDimensions are the dimensions naming member id in metric m: dim
// with the member's value (its own entry in extra if it has one, else the
// id itself) and, where the namespace wants them, the member's other
// dimensions that m does not fix.
func memberDimensions(m blueprints.ResolvedMetric, dim, id string, extra map[string]string) []cwtypes.Dimension {
	with := withMemberDimensions[m.Namespace]
	value := id
	if v, ok := extra[dim]; ok {
		value = v
	}
	out := []cwtypes.Dimension{{Name: aws.String(dim), Value: aws.String(value)}}
	if !with {
		return out
	}
	for _, k := range sortedKeys(extra) {
		if _, fixed := m.Dimensions[k]; !fixed && k != dim {
			out = append(out, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(extra[k])})
		}
	}
	return out
}

// batch packs queries into calls of at most 500 queries and 100,800 points.
func batch(qs []query) [][]query {
	var out [][]query
	var cur []query
	points := 0
	for _, q := range qs {
		// One call has one time range: queries that start elsewhere go
		// to a call of their own.
		if len(cur) == maxQueriesPerCall || points+q.points > maxPointsPerCall || (len(cur) > 0 && !cur[0].from.Equal(q.from)) {
			out, cur, points = append(out, cur), nil, 0
		}
		cur = append(cur, q)
		points += q.points
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// collectMetrics reads every metric over [from, to) and summarises it. The
// returned period is the one most metrics were read at, for the header.
func collectMetrics(ctx context.Context, c CloudWatchAPI, metrics []blueprints.ResolvedMetric, found members, from, to time.Time) ([]MetricSummary, time.Duration, error) {
	qs, sums := planQueries(metrics, found, from, to)
	header := ChoosePeriod(to.Sub(from), 0)
	if len(qs) == 0 {
		return sums, header, nil
	}
	// Batches go out a few at a time: one app's digest should not take
	// all of the account's GetMetricData rate (50 TPS by default).
	bs := batch(qs)
	results := make([]map[string][]Point, len(bs))
	errs := make([]error, len(bs))
	sem := make(chan struct{}, metricCallsInFlight)
	var wg sync.WaitGroup
	for i, b := range bs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i], errs[i] = fetchBatch(ctx, c, b, b[0].from, to)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return sums, header, err
	}
	series := make(map[string][]Point, len(qs)) // by query id
	for _, r := range results {
		maps.Copy(series, r)
	}
	summarise(metrics, qs, series, sums, from)
	return sums, header, nil
}

// metricCallsInFlight bounds one digest's concurrent GetMetricData calls.
const metricCallsInFlight = 4

// fetchBatch makes one GetMetricData call (more if CloudWatch pages it).
func fetchBatch(ctx context.Context, c CloudWatchAPI, b []query, from, to time.Time) (map[string][]Point, error) {
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(from), EndTime: aws.Time(to), ScanBy: cwtypes.ScanByTimestampAscending}
	for _, q := range b {
		in.MetricDataQueries = append(in.MetricDataQueries, q.q)
	}
	series := make(map[string][]Point, len(b))
	for {
		out, err := c.GetMetricData(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("get metric data: %w", err)
		}
		for _, r := range out.MetricDataResults {
			id := aws.ToString(r.Id)
			n := min(len(r.Timestamps), len(r.Values))
			pts := slices.Grow(series[id], n)
			for k := range n {
				pts = append(pts, Point{r.Timestamps[k], r.Values[k]})
			}
			series[id] = pts
		}
		if aws.ToString(out.NextToken) == "" {
			return series, nil
		}
		in.NextToken = out.NextToken
	}
}

// summarise folds each resource's series into one value (by the statistic:
// the max of Maximums, the sum of Sums, the mean of Averages) and the
// metric's across resources.
func summarise(metrics []blueprints.ResolvedMetric, qs []query, series map[string][]Point, sums []MetricSummary, from time.Time) {
	type acc struct {
		sum   float64
		n     int
		byT   map[int64][2]float64 // by Unix second: sum, count
		first bool
	}
	accs := make([]acc, len(metrics))
	per := make([][]ResourceSeries, len(metrics))
	for _, q := range qs {
		pts := series[q.id]
		if len(pts) == 0 {
			continue
		}
		m, s, a := metrics[q.metric], &sums[q.metric], &accs[q.metric]
		// The summary is of the window; a daily metric's earlier points
		// are for its chart. Its newest point stands for the window when
		// none falls inside it (a day's datapoint is stamped at midnight).
		in := pointsSince(pts, from)
		if len(in) == 0 {
			in = pts[len(pts)-1:]
		}
		v := fold(m.Stat, in)
		per[q.metric] = append(per[q.metric], ResourceSeries{ID: q.res, Value: v, Points: pts})
		s.Resources++
		a.sum += v
		a.n++
		if !a.first || worse(m.Below(), v, s.Worst) {
			s.Worst, s.WorstID, a.first = v, q.res, true
		}
		switch m.Level(v) {
		case "critical":
			s.Crit++
		case "warn":
			s.Warn++
		}
		if a.byT == nil {
			a.byT = make(map[int64][2]float64, len(pts))
		}
		for _, p := range pts {
			k := p.T.Unix()
			x := a.byT[k]
			a.byT[k] = [2]float64{x[0] + p.V, x[1] + 1}
		}
	}
	for i := range sums {
		a := accs[i]
		if a.n == 0 {
			if sums[i].Note == "" {
				sums[i].Note = "no data in the window"
			}
			continue
		}
		sums[i].Mean = a.sum / float64(a.n)
		sums[i].Level = metrics[i].Level(sums[i].Worst)
		ts := slices.Sorted(maps.Keys(a.byT))
		sums[i].Series = make([]Point, 0, len(ts))
		for _, t := range ts {
			x := a.byT[t]
			sums[i].Series = append(sums[i].Series, Point{time.Unix(t, 0).UTC(), x[0] / x[1]})
		}
		sums[i].Top, sums[i].Band = topAndBand(per[i], metrics[i].Below())
	}
}

// pointsSince are the points of pts (ascending) at or after t.
func pointsSince(pts []Point, t time.Time) []Point {
	i, _ := slices.BinarySearchFunc(pts, t, func(p Point, t time.Time) int { return p.T.Compare(t) })
	return pts[i:]
}

// topAndBand splits the resources' series into the chartTop worst (worst
// first; ties by id) and the band of the rest.
func topAndBand(all []ResourceSeries, below bool) ([]ResourceSeries, []BandPoint) {
	slices.SortFunc(all, func(a, b ResourceSeries) int {
		if a.Value != b.Value {
			if worse(below, a.Value, b.Value) {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(all) <= chartTop {
		return all, nil
	}
	byT := map[int64][2]float64{}
	for _, r := range all[chartTop:] {
		for _, p := range r.Points {
			k := p.T.Unix()
			x, ok := byT[k]
			if !ok {
				x = [2]float64{p.V, p.V}
			}
			byT[k] = [2]float64{min(x[0], p.V), max(x[1], p.V)}
		}
	}
	band := make([]BandPoint, 0, len(byT))
	for _, t := range slices.Sorted(maps.Keys(byT)) {
		band = append(band, BandPoint{T: time.Unix(t, 0).UTC(), Low: byT[t][0], Hi: byT[t][1]})
	}
	return all[:chartTop], band
}

func worse(below bool, v, than float64) bool {
	if below {
		return v < than
	}
	return v > than
}

// fold reduces one series to one value the way its statistic combines.
func fold(stat string, pts []Point) float64 {
	switch stat {
	case "Maximum":
		v := math.Inf(-1)
		for _, p := range pts {
			v = max(v, p.V)
		}
		return v
	case "Minimum":
		v := math.Inf(1)
		for _, p := range pts {
			v = min(v, p.V)
		}
		return v
	case "Sum", "SampleCount":
		v := 0.0
		for _, p := range pts {
			v += p.V
		}
		return v
	}
	if len(stat) > 1 && stat[0] == 'p' {
		// A percentile over the window is not the mean of per-period
		// percentiles; the worst period is the honest summary.
		v := math.Inf(-1)
		for _, p := range pts {
			v = max(v, p.V)
		}
		return v
	}
	v := 0.0
	for _, p := range pts {
		v += p.V
	}
	return v / float64(len(pts))
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
