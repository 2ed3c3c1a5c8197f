package digest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// TestBucketsByTag: an app's buckets are found by tag and their daily
// storage metrics read per bucket.
func TestBucketsByTag(t *testing.T) {
	ctx := context.Background()
	name := uniq("s3dg")
	for _, b := range []struct{ bucket, app string }{{name + "-a", name}, {name + "-b", name}, {name + "-c", name + "x"}} {
		if err := emu.SeedBucket(ctx, emulator.Bucket{Name: b.bucket, Tags: map[string]string{"app": b.app}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := emu.SeedBucket(ctx, emulator.Bucket{Name: name + "-untagged"}); err != nil {
		t.Fatal(err)
	}
	sel := tasks.Selector{Type: "s3:bucket", Tags: map[string]string{"app": name}}
	app := &blueprints.ResolvedApp{Name: name, Resources: map[string]blueprints.ResolvedResource{"buckets": {Name: "buckets", Select: sel}},
		Metrics: []blueprints.ResolvedMetric{{Select: sel, Metric: blueprints.Metric{Name: "size", Namespace: "AWS/S3", Metric: "BucketSizeBytes",
			Resource: "buckets", Dimensions: map[string]string{"StorageType": "StandardStorage"}, Stat: "Average", Period: 24 * time.Hour, Unit: "Bytes"}}}}
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	r, err := newBuilder(t, openStore(t, func() time.Time { return now }), func() time.Time { return now }, nil).Build(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) > 0 || len(r.Metrics) != 1 || r.Metrics[0].Resources != 2 || r.Metrics[0].Period != 24*time.Hour ||
		len(r.Resources) != 1 || r.Resources[0].Expected != 2 {
		t.Errorf("report = %+v", r)
	}
	_, found, err := collectResources(ctx, testClients(), app)
	if err != nil {
		t.Fatal(err)
	}
	got := found.ids["buckets"]
	slices.Sort(got)
	if want := []string{name + "-a", name + "-b"}; !slices.Equal(got, want) {
		t.Errorf("buckets = %v, want %v", got, want)
	}
}
