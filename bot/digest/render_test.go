package digest

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/day2bot/day2bot/bot/shell"
	"github.com/day2bot/day2bot/policies/store"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

// sampleReport is a digest with something in every section.
func sampleReport() Report {
	to := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	from := to.Add(-24 * time.Hour)
	var series []Point
	for i := range 96 {
		series = append(series, Point{from.Add(time.Duration(i) * 15 * time.Minute), 40 + float64(i%24)})
	}
	s, e, ps, pe := CostWindows(to)
	return Report{
		App: "shop", Region: "us-east-1", From: from, To: to, Period: 15 * time.Minute,
		Resources: []ResourceCount{
			{Name: "db", Type: "rds:db-instance", Up: 1, Expected: 1},
			{Name: "instances", Type: "ec2:instance", Up: 3, Expected: 4, Down: []string{"i-0abc stopped"}},
		},
		Metrics: []MetricSummary{
			{Name: "cpu", Resource: "instances", Unit: "Percent", Stat: "Average", Period: 15 * time.Minute, Resources: 4, Mean: 51.25, Worst: 93.5, WorstID: "i-0abd",
				Level: "critical", Warn: 1, Crit: 1, Warning: f64(70), Critical: f64(90), Series: series},
			{Name: "free-storage", Resource: "db", Unit: "Bytes", Stat: "Minimum", Below: true, Period: 15 * time.Minute, Resources: 1, Mean: 20 << 30, Worst: 20 << 30, WorstID: "shop-db", Level: "ok"},
			{Name: "response-time", Resource: "load-balancer", Unit: "Seconds", Stat: "p95", Period: 15 * time.Minute,
				Note: "no load-balancer to read (elbv2:load-balancer selected by tag is not resolved by digests)"},
		},
		Alarms:   []FiringAlarm{{Name: "shop-web-cpu-high", Reason: "Threshold Crossed: 2 datapoints were greater than the threshold (90.0)", Since: to.Add(-40 * time.Minute)}},
		Runs:     []store.Run{{ID: "r-12", App: "shop", Task: "restart-web", State: store.Failed, CreatedAt: to.Add(-3 * time.Hour)}, {ID: "r-11", App: "shop", Task: "snapshot-db", State: store.Succeeded, CreatedAt: to.Add(-6 * time.Hour)}},
		Failures: 1,
		Pending:  []store.Approval{{ID: "a-7f3k2", ApprovalRequest: store.ApprovalRequest{App: "shop", Task: "stop-web", Requester: "slack:U2", RequesterHandle: "bob"}}},
		Cost: Cost{Start: s, End: e, PrevStart: ps, PrevEnd: pe, MonthToDate: 1234.5, Previous: 1100, Unit: "USD", Scope: "tag app=shop", AsOf: to, Known: true,
			Forecast: 2950.25, ForecastKnown: true, Services: []ServiceCost{{"Amazon Elastic Compute Cloud - Compute", 700}, {"Amazon Relational Database Service", 400}, {"AWS Lambda", 100}, {"AmazonCloudWatch", 34.5}}},
		Problems: []string{"alarms: describe alarms shop-db-*: throttled"},
	}
}

func TestMessageGolden(t *testing.T) {
	r := sampleReport()
	m := Message(r, []byte("png"))
	if m.Attachment == nil || m.Attachment.Name != "shop-cpu.png" || m.Attachment.Type != "image/png" {
		t.Errorf("attachment = %+v", m.Attachment)
	}
	golden(t, "digest", []byte(shell.Render(m)))

	quiet := Report{App: "calm", From: r.From, To: r.To, Period: r.Period,
		Resources: []ResourceCount{{Name: "instances", Up: 2, Expected: 2}},
		Cost:      Cost{FirstDay: true, Known: true, Scope: "whole account"}}
	golden(t, "digest-quiet", []byte(shell.Render(Message(quiet, nil))))
}

func TestChartPNG(t *testing.T) {
	data, err := Chart(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("chart is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != ChartWidth || b.Dy() != ChartHeight {
		t.Errorf("chart is %dx%d, want %dx%d", b.Dx(), b.Dy(), ChartWidth, ChartHeight)
	}
	if data, err := Chart(Report{App: "empty"}); err != nil || data != nil {
		t.Errorf("chart without data = %d bytes, %v; want none", len(data), err)
	}
}

// TestMessageFromEmulator renders a digest collected end to end and
// checks its chart decodes.
func TestMessageFromEmulator(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	app := webApp(t, 4, 2)
	b := newBuilder(t, openStore(t, func() time.Time { return now }), func() time.Time { return now }, nil)
	m, err := b.Message(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	if m.Attachment == nil {
		t.Fatal("no chart attached")
	}
	if _, err := png.Decode(bytes.NewReader(m.Attachment.Content)); err != nil {
		t.Fatal(err)
	}
	if m.Table == nil || len(m.Table.Rows) != 2 {
		t.Errorf("metrics table = %+v", m.Table)
	}
}
