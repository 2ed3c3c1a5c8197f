package policies

import (
	"fmt"
	"strings"
	"time"
)

// Window is a compiled weekly time window in a time zone, such as
// "Mon-Fri 08:00-18:00 Europe/Berlin". Times are wall-clock times in the
// zone, so a window keeps its local hours across daylight-saving changes.
// An overnight window ("Fri 22:00-06:00") belongs to the day it starts on.
type Window struct {
	src        string
	days       [7]bool // indexed by time.Weekday
	start, end int     // minutes since midnight; end may be 1440
	loc        *time.Location
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// parseWindow parses "[DAYS] HH:MM-HH:MM ZONE" with load for the zone.
// DAYS is a comma list of days or day ranges (Mon-Fri, Sat,Sun, Fri-Mon);
// omitted means every day. ZONE is an IANA zone name or UTC and is required.
func parseWindow(s string, load func(string) (*time.Location, error)) (Window, error) {
	f := strings.Fields(s)
	w := Window{src: strings.Join(f, " ")}
	switch {
	case len(f) == 2 && strings.Contains(f[0], ":"): // every day
		for i := range w.days {
			w.days[i] = true
		}
	case len(f) == 3:
		if err := parseDays(f[0], &w.days); err != nil {
			return Window{}, fmt.Errorf("%q: %w", w.src, err)
		}
		f = f[1:]
	default:
		return Window{}, fmt.Errorf("%q: want \"[DAYS] HH:MM-HH:MM ZONE\", e.g. \"Mon-Fri 08:00-18:00 Europe/Berlin\"", w.src)
	}
	from, to, ok := strings.Cut(f[0], "-")
	if !ok {
		return Window{}, fmt.Errorf("%q: hours %q must be HH:MM-HH:MM", w.src, f[0])
	}
	var err error
	if w.start, err = parseClock(from, false); err != nil {
		return Window{}, fmt.Errorf("%q: %w", w.src, err)
	}
	if w.end, err = parseClock(to, true); err != nil {
		return Window{}, fmt.Errorf("%q: %w", w.src, err)
	}
	if w.start == w.end {
		return Window{}, fmt.Errorf("%q: start and end are equal; use 00:00-24:00 for a whole day", w.src)
	}
	if w.loc, err = load(f[1]); err != nil {
		return Window{}, fmt.Errorf("%q: %w", w.src, err)
	}
	return w, nil
}

func parseDays(s string, days *[7]bool) error {
	for item := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(item, "-")
		from, ok := dayIndex(a)
		if !ok {
			return fmt.Errorf("unknown day %q (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)", a)
		}
		to := from
		if isRange {
			if to, ok = dayIndex(b); !ok {
				return fmt.Errorf("unknown day %q (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)", b)
			}
		}
		for d := from; ; d = (d + 1) % 7 {
			days[d] = true
			if d == to {
				break
			}
		}
	}
	return nil
}

func dayIndex(s string) (int, bool) {
	for i, n := range dayNames {
		if strings.EqualFold(s, n) {
			return i, true
		}
	}
	return 0, false
}

// parseClock parses HH:MM; 24:00 is allowed only as an end time.
func parseClock(s string, end bool) (int, error) {
	if len(s) != 5 || s[2] != ':' || !isDigits(s[:2]) || !isDigits(s[3:]) {
		return 0, fmt.Errorf("time %q must be HH:MM", s)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h == 24 && m == 0 && end {
		return 24 * 60, nil
	}
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("time %q is out of range", s)
	}
	return h*60 + m, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// loadZone loads an IANA zone. "Local" is refused: a policy must mean the
// same thing on every host.
func loadZone(name string) (*time.Location, error) {
	if name == "Local" || name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("unknown time zone %q (use an IANA name such as Europe/Berlin, or UTC)", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/_+-", c) >= 0) {
			return nil, fmt.Errorf("unknown time zone %q (use an IANA name such as Europe/Berlin, or UTC)", name)
		}
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (use an IANA name such as Europe/Berlin, or UTC)", name)
	}
	return loc, nil
}

// Contains reports whether t falls inside the window.
func (w *Window) Contains(t time.Time) bool {
	if w.loc == nil {
		return false
	}
	lt := t.In(w.loc)
	m := lt.Hour()*60 + lt.Minute()
	d := lt.Weekday()
	if w.start < w.end {
		return w.days[d] && m >= w.start && m < w.end
	}
	// Overnight: the evening part on a listed day, or the morning part on
	// the day after a listed day.
	return (w.days[d] && m >= w.start) || (w.days[(d+6)%7] && m < w.end)
}

// String returns the window as written (whitespace normalised).
func (w Window) String() string { return w.src }
