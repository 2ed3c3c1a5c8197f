package digest

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Chart size in pixels: small enough to sit in a chat thread.
const (
	ChartWidth  = 480
	ChartHeight = 240
)

// keyMetric is the metric a digest charts: the first one with data (the
// blueprint lists its most telling metric first).
func keyMetric(r Report) (MetricSummary, bool) {
	for _, s := range r.Metrics {
		if len(s.Series) > 1 {
			return s, true
		}
	}
	return MetricSummary{}, false
}

func keyMetricName(r Report) string {
	s, _ := keyMetric(r)
	if s.Name == "" {
		return "chart"
	}
	return s.Name
}

// lineColors tell the top resources apart (colour-blind-safe order).
var lineColors = []color.RGBA{
	{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, {R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
}

// Chart draws the key metric as a ChartWidth × ChartHeight PNG: one line
// per resource for the worst chartTop (so the warm instance the table
// flags is visible), the rest as a grey band, the warn and critical
// thresholds as labelled dashed lines, the axis fitted to the data (a
// threshold far off it is named in the legend instead of flattening the
// lines). Nil when no metric has data.
func Chart(r Report) ([]byte, error) {
	s, ok := keyMetric(r)
	if !ok {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = r.App + " " + s.Name + " (" + s.Stat + ", " + fmt.Sprint(s.Resources) + " resources)"
	p.Y.Label.Text = s.Unit
	p.X.Tick.Marker = plot.TimeTicks{Format: "15:04"}
	if s.Period >= 24*time.Hour { // a daily metric, drawn over two weeks
		p.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2"}
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	xy := func(pts []Point) plotter.XYs {
		out := make(plotter.XYs, len(pts))
		for i, pt := range pts {
			out[i] = plotter.XY{X: float64(pt.T.Unix()), Y: pt.V}
		}
		return out
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	from, to := math.Inf(1), math.Inf(-1)
	seen := func(pts plotter.XYs) {
		for _, q := range pts {
			lo, hi = min(lo, q.Y), max(hi, q.Y)
			from, to = min(from, q.X), max(to, q.X)
		}
	}
	if len(s.Band) > 1 {
		var poly plotter.XYs
		for _, b := range s.Band {
			poly = append(poly, plotter.XY{X: float64(b.T.Unix()), Y: b.Hi})
		}
		for i := len(s.Band) - 1; i >= 0; i-- {
			poly = append(poly, plotter.XY{X: float64(s.Band[i].T.Unix()), Y: s.Band[i].Low})
		}
		seen(poly)
		band, err := plotter.NewPolygon(poly)
		if err != nil {
			return nil, fmt.Errorf("draw chart: %w", err)
		}
		band.Color, band.LineStyle.Width = color.RGBA{R: 0xcc, G: 0xcc, B: 0xcc, A: 0xff}, 0
		p.Add(band)
		p.Legend.Add(fmt.Sprintf("%d others", s.Resources-len(s.Top)), band)
	}
	lines := s.Top
	if len(lines) == 0 { // summaries made before per-resource series
		lines = []ResourceSeries{{ID: "mean", Points: s.Series}}
	}
	for i := len(lines) - 1; i >= 0; i-- { // the worst drawn last, on top
		pts := xy(lines[i].Points)
		if len(pts) == 0 {
			continue
		}
		seen(pts)
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("draw chart: %w", err)
		}
		l.Color, l.Width = lineColors[i%len(lineColors)], vg.Points(1.5)
		p.Add(l)
	}
	for i, rs := range lines { // legend worst first
		l, _ := plotter.NewLine(plotter.XYs{{}})
		l.Color, l.Width = lineColors[i%len(lineColors)], vg.Points(1.5)
		p.Legend.Add(rs.ID, l)
	}
	if math.IsInf(lo, 0) {
		return nil, nil
	}
	// The axis fits the data, with a margin; a threshold within reach of
	// it (half the data's span) is drawn, one further off is only named.
	span := hi - lo
	if span == 0 {
		span = math.Max(math.Abs(hi), 1)
	}
	ymin, ymax := lo-span*0.1, hi+span*0.1
	if lo >= 0 && ymin < 0 {
		ymin = 0
	}
	for _, th := range []struct {
		name string
		v    *float64
		c    color.Color
	}{{"warn", s.Warning, color.RGBA{R: 0xff, G: 0x99, A: 0xff}}, {"critical", s.Critical, color.RGBA{R: 0x99, A: 0xff}}} {
		if th.v == nil {
			continue
		}
		label := th.name + " " + value(*th.v, s.Unit)
		if *th.v < lo-span/2 || *th.v > hi+span/2 {
			off := "above"
			if *th.v < lo {
				off = "below"
			}
			p.Legend.Add(label + " (" + off + " the chart)")
			continue
		}
		ymin, ymax = min(ymin, *th.v-span*0.05), max(ymax, *th.v+span*0.05)
		l, err := plotter.NewLine(plotter.XYs{{X: from, Y: *th.v}, {X: to, Y: *th.v}})
		if err != nil {
			return nil, fmt.Errorf("draw chart: %w", err)
		}
		l.Color, l.Dashes = th.c, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		lab, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: to, Y: *th.v}}, Labels: []string{label}})
		if err != nil {
			return nil, fmt.Errorf("draw chart: %w", err)
		}
		lab.TextStyle[0].Color = th.c
		lab.TextStyle[0].Font.Size = vg.Points(8)
		lab.TextStyle[0].XAlign, lab.TextStyle[0].YAlign = draw.XRight, draw.YBottom
		p.Add(lab)
	}
	p.Y.Min, p.Y.Max = ymin, ymax
	p.X.Min, p.X.Max = from, to
	// At 72 DPI a point is a pixel, so the PNG is exactly the size asked.
	c := vgimg.NewWith(vgimg.UseWH(vg.Points(ChartWidth), vg.Points(ChartHeight)), vgimg.UseDPI(72))
	// A small top margin keeps the title off the image edge.
	p.Draw(draw.Crop(draw.New(c), 0, 0, 0, -vg.Points(6)))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode chart: %w", err)
	}
	return buf.Bytes(), nil
}
