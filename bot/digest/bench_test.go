package digest

import (
	"context"
	"testing"
	"time"
)

// BenchmarkDigest1000 builds the digest of an app with 1,000 instances and
// 10 instance metrics against the emulator (one DescribeInstances, 20
// GetMetricData, alarms, cost from the cache after the first run, store).
func BenchmarkDigest1000(b *testing.B) {
	app := webApp(b, 1000, 10)
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	bd := newBuilder(b, openStore(b, func() time.Time { return now }), func() time.Time { return now }, nil)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := bd.Message(ctx, app); err != nil {
			b.Fatal(err)
		}
	}
}
