package policies

import (
	"strings"
	"testing"
	"time"
)

func TestParseWindowErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "want \"[DAYS] HH:MM-HH:MM ZONE\""},
		{"08:00-18:00", "want \"[DAYS] HH:MM-HH:MM ZONE\""},
		{"Mon-Fri 08:00-18:00 Europe/Berlin extra", "want"},
		{"Mon-Fry 08:00-18:00 UTC", `unknown day "Fry"`},
		{"Mon- 08:00-18:00 UTC", `unknown day ""`},
		{"Mon 8:00-18:00 UTC", `time "8:00" must be HH:MM`},
		{"Mon 08:00 UTC", "must be HH:MM-HH:MM"},
		{"Mon 24:00-18:00 UTC", `time "24:00" is out of range`},
		{"Mon 08:60-18:00 UTC", "out of range"},
		{"Mon 08:00-08:00 UTC", "start and end are equal"},
		{"Mon 08:00-18:00 Mars/Olympus", `unknown time zone "Mars/Olympus"`},
		{"Mon 08:00-18:00 Local", `unknown time zone "Local"`},
		{"Mon 08:00-18:00 ../../etc/passwd", "unknown time zone"},
		{"Mon 08:00-18:00 /etc/localtime", "unknown time zone"},
	}
	for _, tt := range tests {
		_, err := ParseWindow(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseWindow(%q) = %v, want error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestWindowContains(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		window string
		at     string // UTC
		in     bool
	}{
		// Berlin business hours in winter (UTC+1).
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-01-05 07:00:00", true},  // Mon 08:00 CET
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-01-05 06:59:59", false}, // Mon 07:59 CET
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-01-05 16:59:59", true},  // Mon 17:59 CET
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-01-05 17:00:00", false}, // Mon 18:00 CET
		// Summer (UTC+2): same wall-clock hours, different UTC.
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-07-06 06:00:00", true},  // 08:00 CEST
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-07-06 05:59:00", false}, // 07:59 CEST
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-07-06 16:00:00", false}, // 18:00 CEST
		// The Friday before and Monday after DST starts (29 Mar 2026).
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-03-27 07:00:00", true},  // Fri 08:00 CET
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-03-27 06:30:00", false}, // Fri 07:30 CET
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-03-30 06:00:00", true},  // Mon 08:00 CEST
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-03-30 16:30:00", false}, // Mon 18:30 CEST
		// Around DST end (25 Oct 2026).
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-10-23 06:00:00", true},  // Fri 08:00 CEST
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-10-26 06:30:00", false}, // Mon 07:30 CET (08:30 if the offset were fixed)
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-10-26 07:00:00", true},  // Mon 08:00 CET
		// Weekend.
		{"Mon-Fri 08:00-18:00 Europe/Berlin", "2026-01-10 10:00:00", false},
		{"Sat,Sun 00:00-24:00 UTC", "2026-01-10 00:00:00", true},
		{"Sat,Sun 00:00-24:00 UTC", "2026-01-11 23:59:59", true},
		{"Sat,Sun 00:00-24:00 UTC", "2026-01-12 00:00:00", false},
		{"Sat,Sun 00:00-24:00 UTC", "2026-01-09 23:59:59", false},
		// Single day and wrapping day range.
		{"wed 12:00-13:00 UTC", "2026-01-07 12:30:00", true},
		{"wed 12:00-13:00 UTC", "2026-01-08 12:30:00", false},
		{"Fri-Mon 09:00-10:00 UTC", "2026-01-11 09:30:00", true}, // Sun
		{"Fri-Mon 09:00-10:00 UTC", "2026-01-07 09:30:00", false},
		// No days: every day.
		{"09:00-10:00 UTC", "2026-01-07 09:30:00", true},
		// Overnight, belonging to the start day.
		{"Fri 22:00-06:00 UTC", "2026-01-09 23:00:00", true},  // Fri night
		{"Fri 22:00-06:00 UTC", "2026-01-10 05:59:00", true},  // Sat morning
		{"Fri 22:00-06:00 UTC", "2026-01-10 06:00:00", false}, // Sat 06:00
		{"Fri 22:00-06:00 UTC", "2026-01-09 21:59:00", false},
		{"Fri 22:00-06:00 UTC", "2026-01-08 23:00:00", false}, // Thu night
		{"Fri 22:00-06:00 UTC", "2026-01-09 05:00:00", false}, // Fri morning belongs to Thu
		{"Sun 22:00-06:00 UTC", "2026-01-12 01:00:00", true},  // Mon morning after Sun
		// Overnight across the DST jump in Berlin (Sat 28 → Sun 29 Mar 2026, 02:00 → 03:00).
		{"Sat 22:00-06:00 Europe/Berlin", "2026-03-28 21:00:00", true},  // Sat 22:00 CET
		{"Sat 22:00-06:00 Europe/Berlin", "2026-03-29 01:30:00", true},  // Sun 03:30 CEST
		{"Sat 22:00-06:00 Europe/Berlin", "2026-03-29 03:59:00", true},  // Sun 05:59 CEST
		{"Sat 22:00-06:00 Europe/Berlin", "2026-03-29 04:00:00", false}, // Sun 06:00 CEST
	}
	for _, tt := range tests {
		w, err := ParseWindow(tt.window)
		if err != nil {
			t.Fatalf("ParseWindow(%q): %v", tt.window, err)
		}
		if got := w.Contains(utc(tt.at)); got != tt.in {
			t.Errorf("%q contains %s UTC = %v, want %v", tt.window, tt.at, got, tt.in)
		}
	}
}

func TestZeroWindowContainsNothing(t *testing.T) {
	var w Window
	if w.Contains(time.Now()) {
		t.Fatal("zero Window must contain nothing")
	}
}
