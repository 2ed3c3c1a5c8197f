package digest

import (
	"testing"
	"time"
)

func TestChoosePeriod(t *testing.T) {
	for _, tc := range []struct {
		window, floor, want time.Duration
	}{
		{time.Hour, 0, time.Minute},
		{3 * time.Hour, 0, time.Minute},       // 181 points
		{4 * time.Hour, 0, 5 * time.Minute},   // 60s would be 241
		{24 * time.Hour, 0, 15 * time.Minute}, // 97 points
		{24 * time.Hour, 5 * time.Minute, 15 * time.Minute},
		{time.Hour, 5 * time.Minute, 5 * time.Minute},  // never finer than the metric
		{time.Hour, 90 * time.Second, 5 * time.Minute}, // rounded up to minutes, then to a step
		{7 * 24 * time.Hour, 0, time.Hour},
		{30 * 24 * time.Hour, 0, 6 * time.Hour},
		{90 * 24 * time.Hour, 0, 24 * time.Hour},
	} {
		got := ChoosePeriod(tc.window, tc.floor)
		if got != tc.want {
			t.Errorf("ChoosePeriod(%v, %v) = %v, want %v", tc.window, tc.floor, got, tc.want)
		}
		if got%time.Minute != 0 {
			t.Errorf("period %v is not a multiple of 60s", got)
		}
		if tc.window <= 30*24*time.Hour && pointsIn(tc.window, got) > maxPointsPerQuery {
			t.Errorf("ChoosePeriod(%v) = %v gives %d points", tc.window, got, pointsIn(tc.window, got))
		}
	}
}

func TestBatchLimits(t *testing.T) {
	mk := func(n, points int) []query {
		qs := make([]query, n)
		for i := range qs {
			qs[i].points = points
		}
		return qs
	}
	for _, tc := range []struct {
		name       string
		qs         []query
		wantCalls  int
		wantBigger int // size of the first batch
	}{
		{"10k queries of 97 points", mk(10000, 97), 20, 500},
		{"points cap: 201 points", mk(1000, 201), 2, 500}, // 500*201 = 100,500 fits
		{"points cap: 300 points", mk(1000, 300), 3, 336}, // 336*300 = 100,800
		{"one", mk(1, 5), 1, 1},
		{"none", nil, 0, 0},
	} {
		bs := batch(tc.qs)
		if len(bs) != tc.wantCalls {
			t.Errorf("%s: %d calls, want %d", tc.name, len(bs), tc.wantCalls)
			continue
		}
		total := 0
		for _, b := range bs {
			pts := 0
			for _, q := range b {
				pts += q.points
			}
			if len(b) > maxQueriesPerCall || pts > maxPointsPerCall {
				t.Errorf("%s: batch of %d queries, %d points", tc.name, len(b), pts)
			}
			total += len(b)
		}
		if total != len(tc.qs) {
			t.Errorf("%s: %d queries batched, want %d", tc.name, total, len(tc.qs))
		}
		if len(bs) > 0 && len(bs[0]) != tc.wantBigger {
			t.Errorf("%s: first batch %d, want %d", tc.name, len(bs[0]), tc.wantBigger)
		}
	}
}
