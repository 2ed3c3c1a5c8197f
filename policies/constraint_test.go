package policies

import (
	"strings"
	"testing"
	"time"
)

func TestConstraint(t *testing.T) {
	tests := []struct {
		c, v, handle string
		want         bool
	}{
		{"<= 8", "8", "", true},
		{"<= 8", "8.5", "", false},
		{"<=8", "-3", "", true},
		{"< 8", "8", "", false},
		{">= 1", "1", "", true},
		{">= 1", "0", "", false},
		{"> 0", "0.1", "", true},
		{"= 2", "2", "", true},
		{"== 2", "2.0", "", true},
		{"!= 0", "0", "", false},
		{"!= 0", "1", "", true},
		{"between 1 10", "1", "", true},
		{"between 1 10", "10", "", true},
		{"between 1 10", "10.01", "", false},
		{"between 1 and 10", "5", "", true},
		{"BETWEEN 1 10", "5", "", true},
		{"<= 8", "eight", "", false},
		{"<= 8", "", "", false},
		{"<= 8", "NaN", "", false},
		{">= 1", "Inf", "", false},
		{">= 1", "+Inf", "", false},
		{"one of [small, medium]", "small", "", true},
		{"one of [small, medium]", "medium", "", true},
		{"one of [small, medium]", "Small", "", false},
		{"one of [small, medium]", "small, medium", "", false},
		{"one of [x]", "x", "", true},
		{"prod-*", "prod-db", "", true},
		{"prod-*", "staging-db", "", false},
		{"prod-?", "prod-1", "", true},
		{"prod-?", "prod-12", "", false},
		{"exact", "exact", "", true},
		{"exact", "exactly", "", false},
		{`a\*b`, "a*b", "", true},
		{`a\*b`, "axb", "", false},
		{"*", "", "", true},
		{"*-*-*", "a-b-c", "", true},
		{"*-*-*", "a-b", "", false},
		{"research-{user}-*", "research-carol-genomics", "carol", true},
		{"research-{user}-*", "research-carol-", "carol", true},
		{"research-{user}-*", "research-carolx-genomics", "carol", false},
		{"research-{user}-*", "research-dave-genomics", "carol", false},
		{"research-{user}-*", "research--genomics", "", false},
		{"research-{user}-*", "research-carol-x", "", false},
		{"{user}", "carol", "carol", true},
		{"*{user}*", "xxcarolxx", "carol", true},
		{"*{user}*", "xxcaroxx", "carol", false},
		{"{user}-*-{user}", "ab-x-ab", "ab", true},
		{"{user}-*-{user}", "ab-x-ac", "ab", false},
	}
	for _, tt := range tests {
		c, err := ParseConstraint(tt.c)
		if err != nil {
			t.Fatalf("ParseConstraint(%q): %v", tt.c, err)
		}
		if got := c.Match(tt.v, tt.handle); got != tt.want {
			t.Errorf("%q.Match(%q, handle %q) = %v, want %v", tt.c, tt.v, tt.handle, got, tt.want)
		}
	}
}

func TestParseConstraintErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty constraint"},
		{"   ", "empty constraint"},
		{"<= x", `"<= x": "x" is not a number`},
		{">=", `is not a number`},
		{"<= NaN", "is not a number"},
		{"<= Inf", "is not a number"},
		{"between 1", `want "between LOW HIGH"`},
		{"between 10 1", "low bound 10 is above high bound 1"},
		{"between a b", `"a" is not a number`},
		{"one of a, b", "list must be in brackets"},
		{"one of [a,,b]", "empty item"},
		{"one of []", "empty item"},
		{"one [a]", `want "one of [a, b]"`},
		{"research-{usr}-*", "unknown placeholder {usr}"},
		{"research-{user", "unclosed {"},
		{"research-}", "unmatched }"},
		{`trailing\`, "trailing backslash"},
	}
	for _, tt := range tests {
		_, err := ParseConstraint(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseConstraint(%q) = %v, want error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		per  time.Duration
		text string
	}{
		{"5/1h", 5, time.Hour, "5/1h"},
		{" 5 / 1h ", 5, time.Hour, "5/1h"},
		{"10/h", 10, time.Hour, "10/1h"},
		{"3/30m", 3, 30 * time.Minute, "3/30m"},
		{"20/1d", 20, 24 * time.Hour, "20/1d"},
		{"20/24h", 20, 24 * time.Hour, "20/1d"},
		{"1/90m", 1, 90 * time.Minute, "1/1h30m"},
		{"2/10s", 2, 10 * time.Second, "2/10s"},
		{"100/7d", 100, 7 * 24 * time.Hour, "100/7d"},
	}
	for _, tt := range tests {
		r, err := ParseRate(tt.in)
		if err != nil {
			t.Fatalf("ParseRate(%q): %v", tt.in, err)
		}
		if r.N != tt.n || r.Per != tt.per || r.String() != tt.text {
			t.Errorf("ParseRate(%q) = %d/%v %q, want %d/%v %q", tt.in, r.N, r.Per, r, tt.n, tt.per, tt.text)
		}
	}
	bad := map[string]string{
		"":          "want COUNT/DURATION",
		"5":         "want COUNT/DURATION",
		"0/1h":      "count must be",
		"-1/1h":     "count must be",
		"x/1h":      "count must be",
		"5/":        "is not a duration",
		"5/1y":      "is not a duration",
		"5/0s":      "period must be",
		"5/100d":    "period must be",
		"5/1h/2":    "is not a duration",
		"9999999/h": "count must be",
	}
	for in, want := range bad {
		if _, err := ParseRate(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRate(%q) = %v, want error containing %q", in, err, want)
		}
	}
}
