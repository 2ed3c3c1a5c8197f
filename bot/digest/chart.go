package digest

import (
	"bytes"
	"fmt"
	"image/color"

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

// Chart draws the key metric's mean over the app's resources with its
// warn and critical lines as a ChartWidth × ChartHeight PNG; nil when no
// metric has data.
func Chart(r Report) ([]byte, error) {
	s, ok := keyMetric(r)
	if !ok {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = r.App + " " + s.Name + " (" + s.Stat + ", mean of " + fmt.Sprint(s.Resources) + ")"
	p.Y.Label.Text = s.Unit
	p.X.Tick.Marker = plot.TimeTicks{Format: "15:04"}
	pts := make(plotter.XYs, len(s.Series))
	for i, pt := range s.Series {
		pts[i] = plotter.XY{X: float64(pt.T.Unix()), Y: pt.V}
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return nil, fmt.Errorf("draw chart: %w", err)
	}
	line.Color = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	p.Add(line)
	from, to := pts[0].X, pts[len(pts)-1].X
	for _, th := range []struct {
		v *float64
		c color.Color
	}{{s.Warning, color.RGBA{R: 0xff, G: 0x99, A: 0xff}}, {s.Critical, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}}} {
		if th.v == nil {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: from, Y: *th.v}, {X: to, Y: *th.v}})
		if err != nil {
			return nil, fmt.Errorf("draw chart: %w", err)
		}
		l.Color, l.Dashes = th.c, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
	}
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
