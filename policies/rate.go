package policies

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a per-user limit of one rule: at most N uses per Per.
type Rate struct {
	N   int
	Per time.Duration
}

// Bounds for rates and approval expiries: long enough for any sane policy,
// short enough that usage lookups stay cheap.
const (
	maxRateN   = 1_000_000
	maxRatePer = 31 * 24 * time.Hour
	maxExpiry  = 30 * 24 * time.Hour
)

// ParseRate parses "N/DURATION" such as "5/1h", "20/24h", "3/1d" or "10/h".
func ParseRate(s string) (Rate, error) {
	t := strings.TrimSpace(s)
	ns, ds, ok := strings.Cut(t, "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q: want COUNT/DURATION, e.g. 5/1h", t)
	}
	n, err := strconv.Atoi(strings.TrimSpace(ns))
	if err != nil || n < 1 || n > maxRateN {
		return Rate{}, fmt.Errorf("%q: count must be a whole number from 1 to %d", t, maxRateN)
	}
	ds = strings.TrimSpace(ds)
	if ds != "" && (ds[0] < '0' || ds[0] > '9') {
		ds = "1" + ds // "10/h" means per one hour
	}
	per, err := parseDuration(ds)
	if err != nil {
		return Rate{}, fmt.Errorf("%q: %w", t, err)
	}
	if per < time.Second || per > maxRatePer {
		return Rate{}, fmt.Errorf("%q: period must be between 1s and 31d", t)
	}
	return Rate{N: n, Per: per}, nil
}

// String renders the rate in its canonical form, e.g. "5/1h".
func (r Rate) String() string { return strconv.Itoa(r.N) + "/" + formatDuration(r.Per) }

// parseDuration accepts Go durations plus whole days ("1d", "7d").
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok && days != "" && isDigits(days) && len(days) <= 4 {
		n, _ := strconv.Atoi(days)
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. 30m, 1h, 7d)", s)
	}
	return d, nil
}

// formatDuration prints durations the way people write them in policies:
// "1h", "30m", "7d", "1h30m".
func formatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
