package tasks

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/internal/errs"
)

func f(v float64) *float64 { return &v }

var (
	desired = Param{Name: "desired", Type: TypeInt, Min: f(1), Max: f(8), Default: "2"}
	batch   = Param{Name: "batch", Type: TypeInt, Min: f(1)}
	limit   = Param{Name: "limit", Type: TypeInt, Max: f(100)}
	flag    = Param{Name: "failover", Type: TypeBool, Default: "false"}
	mute    = Param{Name: "duration", Type: TypeDuration, Min: f(60), Max: f(86400), Default: "1h"}
	state   = Param{Name: "state", Type: TypeEnum, Enum: []string{"ALARM", "OK", "INSUFFICIENT_DATA", "any"}, Default: "any"}
	label   = Param{Name: "label", Type: TypeString, Pattern: `^[a-z0-9-]{1,40}$`, Format: "1 to 40 lowercase letters, digits or dashes", Default: "manual"}
	// bucket's pattern is written without anchors; it must still match
	// the whole value, or it bounds nothing.
	bucket = Param{Name: "bucket", Type: TypeString, Pattern: `research-[a-z]+`, Format: "research- and lowercase letters"}
	region = Param{Name: "region", Type: TypeString, Enum: []string{"eu-west-1", "us-east-1"}}
	anyStr = Param{Name: "principal", Type: TypeString, Required: true}
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		p       Param
		raw     string
		want    any
		wantErr string
	}{
		{desired, "4", int64(4), ""},
		{desired, " 8 ", int64(8), ""},
		{desired, "1", int64(1), ""},
		{desired, "12", nil, "desired must be between 1 and 8, got 12"},
		{desired, "0", nil, "desired must be between 1 and 8, got 0"},
		{desired, "-3", nil, "desired must be between 1 and 8, got -3"},
		{desired, "two", nil, `desired must be a whole number between 1 and 8, got "two"`},
		{desired, "2.5", nil, `desired must be a whole number between 1 and 8, got "2.5"`},
		{desired, "99999999999999999999", nil, `desired must be a whole number between 1 and 8, got "99999999999999999999"`},
		{batch, "100", int64(100), ""},
		{batch, "0", nil, "batch must be at least 1, got 0"},
		{limit, "-5", int64(-5), ""},
		{limit, "101", nil, "limit must be at most 100, got 101"},
		{flag, "true", true, ""},
		{flag, "YES", true, ""},
		{flag, "off", false, ""},
		{flag, "0", false, ""},
		{flag, "maybe", nil, `failover must be true or false, got "maybe"`},
		{mute, "30m", 30 * time.Minute, ""},
		{mute, "24h", 24 * time.Hour, ""},
		{mute, "1m", time.Minute, ""},
		{mute, "1d", 24 * time.Hour, ""},
		{mute, "2d", nil, "duration must be between 1m and 24h, got 2d"},
		{mute, "30s", nil, "duration must be between 1m and 24h, got 30s"},
		{mute, "-5m", nil, "duration must not be negative, got -5m"},
		{mute, "soon", nil, `duration must be a duration like 30m, 2h or 7d between 1m and 24h, got "soon"`},
		{state, "ALARM", "ALARM", ""},
		{state, "alarm", "ALARM", ""},
		{state, "Any", "any", ""},
		{state, "ALRAM", nil, `state must be one of ALARM, OK, INSUFFICIENT_DATA, any, got "ALRAM"; did you mean "ALARM"?`},
		{state, "", nil, `state must be one of ALARM, OK, INSUFFICIENT_DATA, any, got ""`},
		{label, "before-upgrade-2", "before-upgrade-2", ""},
		{label, "Before Upgrade", nil, `label must be 1 to 40 lowercase letters, digits or dashes, got "Before Upgrade"`},
		{label, "", nil, "label must not be empty"},
		{bucket, "research-carol", "research-carol", ""},
		{bucket, "prod-logs,research-carol", nil, `bucket must be research- and lowercase letters, got "prod-logs,research-carol"`},
		{bucket, "research-carol/../prod", nil, `bucket must be research- and lowercase letters, got "research-carol/../prod"`},
		{bucket, "a|research-x", nil, `bucket must be research- and lowercase letters, got "a|research-x"`},
		{region, "us-east-1", "us-east-1", ""},
		{region, "us-east-2", nil, `region must be one of eu-west-1, us-east-1, got "us-east-2"; did you mean "us-east-1"?`},
		{anyStr, "arn:aws:iam::123456789012:role/researcher", "arn:aws:iam::123456789012:role/researcher", ""},
		{anyStr, strings.Repeat("a", 3000), nil, "principal is too long (3000 characters, at most 2048)"},
	} {
		got, err := tc.p.Parse(tc.raw)
		if tc.wantErr != "" {
			wantParamErr(t, err, tc.p.Name, tc.wantErr)
			continue
		}
		if err != nil {
			t.Errorf("%s.Parse(%q): %v", tc.p.Name, tc.raw, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s.Parse(%q) = %#v, want %#v", tc.p.Name, tc.raw, got, tc.want)
		}
	}
}

// wantParamErr fails unless err is an Invalid error about parameter name
// (ParamOp) that renders exactly as want.
func wantParamErr(t *testing.T, err error, name, want string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || !errs.Is(errs.Invalid, err) {
		t.Errorf("error = %v (%T), want an Invalid errs.Error %q", err, err, want)
		return
	}
	if e.Op != ParamOp(name) {
		t.Errorf("error %q has op %q, want %q", err, e.Op, ParamOp(name))
	}
	if msg, ok := errs.Render(err); !ok || msg != want {
		t.Errorf("rendered %q, %v\n                  want %q", msg, ok, want)
	}
}

func TestParseUnknownType(t *testing.T) {
	_, err := Param{Name: "x", Type: "float"}.Parse("1")
	if _, ok := errs.Render(err); err == nil || ok || errs.KindOf(err) != errs.Internal {
		t.Fatalf("unknown type: err = %v, want an internal (non-user) error", err)
	}
}

func TestValidate(t *testing.T) {
	for _, p := range []Param{desired, batch, limit, flag, mute, state, label, region, anyStr} {
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%s): %v", p.Name, err)
		}
	}
	for _, tc := range []struct {
		p    Param
		want string
	}{
		{Param{Name: "Desired", Type: TypeInt}, `parameter name "Desired" must be lowercase`},
		{Param{Name: "", Type: TypeInt}, `parameter name "" must be lowercase`},
		{Param{Name: "x", Type: "float"}, `x: type "float" is not one of string, int, bool, duration, enum`},
		{Param{Name: "x", Type: TypeInt, Min: f(5), Max: f(2)}, "x: min 5 is greater than max 2"},
		{Param{Name: "x", Type: TypeDuration, Min: f(7200), Max: f(60)}, "x: min 2h is greater than max 1m"},
		{Param{Name: "x", Type: TypeString, Min: f(1)}, "x: min/max apply only to int and duration parameters, not string"},
		{Param{Name: "x", Type: TypeEnum}, "x: enum parameter needs a non-empty enum list"},
		{Param{Name: "x", Type: TypeEnum, Enum: []string{"a", "A"}}, `x: enum values must be non-empty and distinct, got "A"`},
		{Param{Name: "x", Type: TypeInt, Enum: []string{"1"}}, "x: enum applies only to enum and string parameters, not int"},
		{Param{Name: "x", Type: TypeString, Pattern: "(["}, `x: pattern "([" does not compile`},
		{Param{Name: "x", Type: TypeInt, Pattern: "^1$"}, "x: pattern applies only to string parameters, not int"},
		{Param{Name: "x", Type: TypeString, Pattern: "^1$"}, "x: a pattern needs a format"},
		{Param{Name: "x", Type: TypeString, Format: "one"}, "x: format describes a pattern"},
		{Param{Name: "x", Type: TypeInt, Max: f(8), Default: "9"}, `x: default "9" is invalid: x must be at most 8, got 9`},
		{Param{Name: "x", Type: TypeEnum, Enum: []string{"a"}, Default: "b"}, `x: default "b" is invalid`},
		{Param{Name: "x", Type: TypeInt, Required: true, Default: "1"}, "x: a required parameter cannot have a default"},
	} {
		err := tc.p.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want prefix %q", tc.p, err, tc.want)
		}
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		p    Param
		want string
	}{
		{desired, "desired: int 1..8 (default 2)"},
		{batch, "batch: int 1.."},
		{limit, "limit: int ..100"},
		{flag, "failover: bool (default false)"},
		{mute, "duration: duration 1m..24h (default 1h)"},
		{state, "state: enum ALARM|OK|INSUFFICIENT_DATA|any (default any)"},
		{label, "label: string, 1 to 40 lowercase letters, digits or dashes (default manual)"},
		{anyStr, "principal: string (required)"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestParseValues(t *testing.T) {
	params := []Param{desired, flag, batch, anyStr}
	for _, tc := range []struct {
		name    string
		params  []Param
		raw     map[string]string
		want    Values
		wantErr string
		// errParam is the parameter wantErr is about ("" for the set).
		errParam string
	}{
		{"defaults applied, optional absent", params, map[string]string{"principal": "p"},
			Values{"desired": int64(2), "failover": false, "principal": "p"}, "", ""},
		{"typed values", params, map[string]string{"desired": "5", "batch": "3", "failover": "yes", "principal": "p"},
			Values{"desired": int64(5), "failover": true, "batch": int64(3), "principal": "p"}, "", ""},
		{"unknown key suggests", params, map[string]string{"desird": "5", "principal": "p"},
			nil, `unknown parameter "desird"; allowed: desired, failover, batch, principal; did you mean "desired"?`, ""},
		{"unknown keys reported in name order", params, map[string]string{"zz": "1", "aa": "2"},
			nil, `unknown parameter "aa"; allowed: desired, failover, batch, principal`, ""},
		{"no params", nil, map[string]string{"x": "1"},
			nil, `unknown parameter "x": this task takes no parameters`, ""},
		{"required missing", params, map[string]string{},
			nil, "principal is required (principal: string (required))", "principal"},
		{"bad value", params, map[string]string{"desired": "12", "principal": "p"},
			nil, "desired must be between 1 and 8, got 12", "desired"},
		{"empty input, no params", nil, nil, Values{}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseValues(tc.params, tc.raw)
			if tc.wantErr != "" {
				wantParamErr(t, err, tc.errParam, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %#v, want %#v", k, got[k], v)
				}
			}
		})
	}
}

func TestDurations(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"30m", 30 * time.Minute}, {"2h", 2 * time.Hour}, {"7d", 7 * 24 * time.Hour},
		{"1d12h", 36 * time.Hour}, {"0d", 0}, {"1.5h", 90 * time.Minute},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "d", "xd", "-1d", "1d-2h", "7 days", "1e9d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded, want error", bad)
		}
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {45 * time.Second, "45s"}, {90 * time.Minute, "1h30m"}, {24 * time.Hour, "24h"},
		{36 * time.Hour, "36h"}, {7 * 24 * time.Hour, "7d"}, {-time.Hour, "-1h"}, {1500 * time.Millisecond, "1.5s"},
	} {
		if got := FormatDuration(tc.d); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestUnmarshalYAML(t *testing.T) {
	var ps []Param
	src := `
- name: duration
  type: duration
  min: 1m
  max: 24h
  default: 1h
- name: desired
  type: int
  min: 1
  max: 8
  default: 2
- name: wait
  type: duration
  max: 600
`
	if err := yaml.Unmarshal([]byte(src), &ps); err != nil {
		t.Fatal(err)
	}
	if *ps[0].Min != 60 || *ps[0].Max != 86400 || ps[0].Default != "1h" {
		t.Errorf("duration bounds = %v..%v default %q", *ps[0].Min, *ps[0].Max, ps[0].Default)
	}
	if *ps[1].Min != 1 || *ps[1].Max != 8 || ps[1].Default != "2" {
		t.Errorf("int bounds = %v..%v default %q", *ps[1].Min, *ps[1].Max, ps[1].Default)
	}
	if *ps[2].Max != 600 {
		t.Errorf("numeric duration bound = %v, want 600 seconds", *ps[2].Max)
	}
	for _, tc := range []struct{ src, want string }{
		{"name: x\ntype: int\nmaxx: 3\n", `line 3: unknown parameter field "maxx"; allowed: name, type, description, default, required, min, max, enum, pattern, format; did you mean "max"?`},
		{"name: x\ntype: duration\nmax: soon\n", `line 3: max "soon" is not a duration like 30m, 2h or 7d`},
		{"- x\n", "line 1: a parameter must be a mapping"},
		{"name: x\ntype: int\nmax: eight\n", "decode parameter:"},
	} {
		var p Param
		err := yaml.Unmarshal([]byte(tc.src), &p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Unmarshal(%q) = %v, want %q", tc.src, err, tc.want)
		}
	}
}

// FuzzParse checks that no input panics Parse and that every accepted value
// lies within the declared bounds and re-parses to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"1", "8", "12", "-1", "true", "no", "30m", "7d", "1d12h", "ALARM", "alarm", "manual", "Bad Label", "", "9223372036854775807", "1e3", "0x10", "٣"} {
		f.Add(s)
	}
	params := []Param{desired, batch, limit, flag, mute, state, label, region, anyStr}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, p := range params {
			v, err := p.Parse(raw)
			if err != nil {
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.Invalid || e.Op != ParamOp(p.Name) || !strings.HasPrefix(e.Msg, p.Name+" ") {
					t.Fatalf("%s.Parse(%q): error %v does not name the parameter", p.Name, raw, err)
				}
				continue
			}
			var again any
			switch x := v.(type) {
			case int64:
				if !p.inRange(float64(x)) {
					t.Fatalf("%s.Parse(%q) = %d outside bounds", p.Name, raw, x)
				}
				again, err = p.Parse(strings.TrimSpace(raw))
			case time.Duration:
				if x < 0 || !p.inRange(x.Seconds()) {
					t.Fatalf("%s.Parse(%q) = %v outside bounds", p.Name, raw, x)
				}
				again, err = p.Parse(FormatDuration(x))
			case bool:
				again, err = p.Parse(map[bool]string{true: "true", false: "false"}[x])
			case string:
				again, err = p.Parse(x)
			default:
				t.Fatalf("%s.Parse(%q) returned %T", p.Name, raw, v)
			}
			if err != nil || again != v {
				t.Fatalf("%s: %q parsed to %#v, re-parse gave %#v, %v", p.Name, raw, v, again, err)
			}
		}
	})
}

func TestQuoteInputCutsLongInput(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"short", `"short"`},
		{strings.Repeat("é", 100), `"` + strings.Repeat("é", 100) + `"`},
		{strings.Repeat("x", 100000), `"` + strings.Repeat("x", 100) + `"… (100000 characters)`},
	} {
		if got := QuoteInput(tc.in); got != tc.want {
			t.Errorf("QuoteInput(%d chars) = %.120q, want %.120q", len(tc.in), got, tc.want)
		}
	}
	p := Param{Name: "n", Type: TypeInt}
	_, err := p.Parse(strings.Repeat("9x", 1000))
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("Parse of a 2000-character value: error %d characters long, want a short one: %.300v", len(err.Error()), err)
	}
}
