package policies

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/day2bot/day2bot/internal/errs"
)

// The parsers read what people type into policy files and `policy add`;
// whatever they get, they must return a value or an error, never panic, and
// what they print must parse back to the same meaning.

func FuzzParseConstraint(f *testing.F) {
	for _, s := range []string{"<= 8", ">= 1", "between 1 10", "between 1 and 10", "one of [a, b]", "research-{user}-*",
		`a\*b`, "*", "?x*", "!= 0", "= 2", "{user}", "{", "}", "one of []", "<= x", "between", "*{user}*{user}"} {
		f.Add(s, "research-carol-x", "carol")
	}
	f.Fuzz(func(t *testing.T, s, value, handle string) {
		c, err := ParseConstraint(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		got := c.Match(value, handle)
		c2, err := ParseConstraint(c.String())
		if err != nil {
			t.Fatalf("String %q of %q does not parse: %v", c.String(), s, err)
		}
		if c2.Match(value, handle) != got {
			t.Fatalf("%q and its String %q disagree on %q", s, c.String(), value)
		}
		if c.UsesHandle() && handle == "" && got {
			t.Fatalf("%q matched %q without a handle", s, value)
		}
		_ = c.describe(handle)
	})
}

func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"Mon-Fri 08:00-18:00 Europe/Berlin", "Sat,Sun 00:00-24:00 UTC", "Fri 22:00-06:00 UTC",
		"09:00-10:00 UTC", "Fri-Mon 09:00-10:00 America/New_York", "Mon 24:00-01:00 UTC", "mon 8:00-9:00 UTC", "", "Mon- 08:00-09:00 UTC"} {
		f.Add(s, int64(1767603600))
	}
	f.Fuzz(func(t *testing.T, s string, unix int64) {
		w, err := ParseWindow(s)
		if err != nil {
			return
		}
		at := time.Unix(unix, 0)
		got := w.Contains(at)
		w2, err := ParseWindow(w.String())
		if err != nil {
			t.Fatalf("String %q of %q does not parse: %v", w.String(), s, err)
		}
		if w2.Contains(at) != got {
			t.Fatalf("%q and its String disagree at %v", s, at)
		}
	})
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"5/1h", "10/h", "3/30m", "20/1d", "1/90m", "0/1h", "5/", "/", "5/1y", "1/1h1m1s", "7/0.5h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if r.N < 1 || r.N > maxRateN || r.Per < time.Second || r.Per > maxRatePer {
			t.Fatalf("%q parsed out of bounds: %+v", s, r)
		}
		r2, err := ParseRate(r.String())
		if err != nil || r2 != r {
			t.Fatalf("%q → %q → %+v, %v", s, r.String(), r2, err)
		}
	})
}

// FuzzEvaluate compiles a one-rule policy from arbitrary fields and
// evaluates an arbitrary request: bad input is an error or a decision,
// never a panic, and every decision explains itself in one line.
func FuzzEvaluate(f *testing.F) {
	f.Add("group:ops", "shop*", "restart-*", "between 1 4", "Mon-Fri 08:00-18:00 Europe/Berlin", "5/1h",
		"slack:U1", "carol", "ops", "shop", "restart-web", "3", int64(1767603600), true)
	f.Add("owner", "*", "*delete-trail*", "research-{user}-*", "", "", "shell:a", "", "", "x", "delete-trail", "research--", int64(0), false)
	f.Fuzz(func(t *testing.T, subject, app, task, constraint, window, rate, principal, handle, group, reqApp, reqTask, value string, unix int64, mutating bool) {
		rules := []Rule{
			{ID: "fuzz", Effect: Allow, Subjects: []string{subject}, Apps: []string{app}, Tasks: []string{task},
				Params: map[string]string{"p": constraint}, Window: window, Rate: rate},
			{ID: "fuzz-approve", Effect: Approve, Subjects: []string{subject}, Apps: []string{app}, Mutating: &mutating,
				Approvers: []string{subject}, Quorum: 1},
		}
		rs, err := Compile(rules)
		if err != nil {
			rs, err = Compile(rules[:1])
			if err != nil {
				var ve *ValidationError
				if !errors.As(err, &ve) || !errs.Is(errs.Invalid, err) {
					t.Fatalf("error of type %T: %v", err, err)
				}
				return
			}
		}
		req := Request{Principal: principal, Handle: handle, Groups: []string{group}, App: reqApp, Owners: []string{handle},
			Task: reqTask, Mutating: mutating, Params: map[string]string{"p": value}, Time: time.Unix(unix, 0)}
		for _, u := range []Usage{nil, countUsage(0), countUsage(10)} {
			d := rs.Evaluate(req, u)
			if d.Reason == "" || strings.ContainsAny(d.Reason, "\n") && !strings.ContainsAny(reqApp+reqTask+principal+handle+value, "\n") {
				t.Fatalf("bad reason %q", d.Reason)
			}
			if d.Effect == Allow && d.Rule == "" {
				t.Fatal("allow without rule")
			}
		}
	})
}

// FuzzGlobMatch checks the allocation-free matcher against a regular
// expression built from the same pattern with {user} substituted.
func FuzzGlobMatch(f *testing.F) {
	for _, s := range [][3]string{{"research-{user}-*", "research-carol-x", "carol"}, {"*a*b?", "xxaxxbz", ""},
		{"{user}-*-{user}", "ab-x-ab", "ab"}, {`a\*`, "a*", ""}, {"**", "", ""}, {"?*?", "ab", ""}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, pattern, value, handle string) {
		g, err := parseGlob(pattern, true)
		if err != nil {
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)\A`)
		for _, sg := range g.segs {
			switch sg.kind {
			case segLit:
				re.WriteString(regexp.QuoteMeta(sg.text))
			case segUser:
				re.WriteString(regexp.QuoteMeta(handle))
			case segStar:
				re.WriteString(`.*`)
			case segOne:
				re.WriteString(`.`)
			}
		}
		re.WriteString(`\z`)
		if !utf8.ValidString(value) || !utf8.ValidString(handle) || !utf8.ValidString(pattern) {
			return // the regexp package refuses invalid UTF-8
		}
		if g.hasOne() && hasMultibyte(value) {
			return // '?' is one byte in the matcher, one rune in the regexp
		}
		want := regexp.MustCompile(re.String()).MatchString(value)
		if g.hasUser && handle == "" {
			want = false
		}
		if got := g.match(value, handle); got != want {
			t.Fatalf("%q.match(%q, %q) = %v, regexp %s says %v", pattern, value, handle, got, re.String(), want)
		}
	})
}

func hasMultibyte(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

func (g *glob) hasOne() bool {
	for _, sg := range g.segs {
		if sg.kind == segOne {
			return true
		}
	}
	return false
}
