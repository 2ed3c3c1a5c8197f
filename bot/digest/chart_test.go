package digest

import (
	"bytes"
	"fmt"
	"image/png"
	"testing"
	"time"
)

// fleetReport is a CPU digest of n instances idling near 20 % but for
// i-warm, which runs at 85 %.
func fleetReport(n int) Report {
	to := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	var all []ResourceSeries
	for k := range n {
		id, base := fmt.Sprintf("i-%02d", k), 18+float64(k%5)
		if k == 3 {
			id, base = "i-warm", 85
		}
		rs := ResourceSeries{ID: id}
		for i := range 48 {
			rs.Points = append(rs.Points, Point{to.Add(time.Duration(i-48) * 30 * time.Minute), base + float64(i%6)})
		}
		rs.Value = fold("Average", rs.Points)
		all = append(all, rs)
	}
	top, band := topAndBand(all, false)
	return Report{App: "shop", Metrics: []MetricSummary{{Name: "cpu", Unit: "Percent", Stat: "Average", Resources: n,
		Warning: f64(70), Critical: f64(90), Series: all[0].Points, Top: top, Band: band}}}
}

func TestTopAndBand(t *testing.T) {
	r := fleetReport(12)
	s := r.Metrics[0]
	if len(s.Top) != chartTop || s.Top[0].ID != "i-warm" {
		t.Fatalf("top %v", ids(s.Top))
	}
	for i := 1; i < len(s.Top); i++ {
		if s.Top[i].Value > s.Top[i-1].Value {
			t.Errorf("top not worst first: %v", ids(s.Top))
		}
	}
	if len(s.Band) != 48 || s.Band[0].Low > s.Band[0].Hi || s.Band[0].Hi >= s.Top[0].Points[0].V {
		t.Errorf("band %+v", s.Band[:1])
	}
	// Below-threshold metrics: the lowest is the worst.
	low := []ResourceSeries{{ID: "a", Value: 5}, {ID: "b", Value: 1}, {ID: "c", Value: 3}}
	if top, band := topAndBand(low, true); ids(top) != "b c a" || band != nil {
		t.Errorf("below: %s %v", ids(top), band)
	}
}

func ids(rs []ResourceSeries) string {
	var b bytes.Buffer
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r.ID)
	}
	return b.String()
}

// TestChartShowsTheWarmInstance: the warm instance's line (the first
// colour) is drawn, and the axis is fitted to the data, so it sits well
// above the band of the others.
func TestChartShowsTheWarmInstance(t *testing.T) {
	data, err := Chart(fleetReport(12))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	warm, grey := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			switch {
			case r>>8 == 0xd6 && g>>8 == 0x27 && bl>>8 == 0x28:
				warm++
			case r>>8 == 0xcc && g>>8 == 0xcc && bl>>8 == 0xcc:
				grey++
			}
		}
	}
	if warm < 100 || grey < 500 {
		t.Errorf("%d pixels of the warm line's colour, %d of the band; want both drawn", warm, grey)
	}
}
