package digest

import (
	"bytes"
	"context"
	"image/png"
	"testing"
	"time"

	"github.com/day2bot/day2bot/blueprints"
)

// A metric published once a day (S3's bucket size and object count, the
// key metric of research apps) is read over two weeks, so its chart has a
// line; its summary still covers the digest's window (the newest day).
func TestDailyMetricIsChartedOverTwoWeeks(t *testing.T) {
	ctx := context.Background()
	app := webApp(t, 2, 0)
	sel := app.Resources["instances"].Select
	app.Metrics = []blueprints.ResolvedMetric{{Metric: blueprints.Metric{Name: "size", Namespace: "AWS/S3", Metric: "BucketSizeBytes",
		Resource: "instances", Stat: "Average", Period: 24 * time.Hour, Unit: "Bytes", Warn: f64(1e12), Critical: f64(5e12)}, Select: sel}}
	ids := instanceIDs(t, app)
	for i, id := range ids {
		if err := emu.SetMetric(ctx, "AWS/S3", "BucketSizeBytes", map[string]string{"InstanceId": id}, float64(i+1)*1e9); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	b := newBuilder(t, openStore(t, func() time.Time { return now }), func() time.Time { return now }, nil)
	r, err := b.Build(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metrics[0]
	if len(m.Series) < 14 {
		t.Fatalf("daily metric has %d points, want two weeks' worth", len(m.Series))
	}
	if m.Resources != 2 || m.Worst != 2e9 || m.Mean != 1.5e9 || m.Level != "ok" {
		t.Errorf("summary: %d resources, worst %v, mean %v, level %s; want 2, 2e9, 1.5e9, ok", m.Resources, m.Worst, m.Mean, m.Level)
	}
	img, err := Chart(r)
	if err != nil || img == nil {
		t.Fatalf("chart: %d bytes, %v", len(img), err)
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Fatalf("chart is not a PNG: %v", err)
	}
}
