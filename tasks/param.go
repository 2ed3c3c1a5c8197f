package tasks

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/internal/suggest"
)

// Param describes one typed, bounded parameter of a task. Blueprints declare
// them; the engine validates what a user typed against them before any policy
// is evaluated, so an action only ever sees values inside these bounds.
//
// Min and Max bound ints by value and durations in seconds (YAML may write a
// duration bound as "24h"; see UnmarshalYAML).
type Param struct {
	Name        string   `yaml:"name" json:"name"`
	Type        Type     `yaml:"type" json:"type"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Default     string   `yaml:"default,omitempty" json:"default,omitempty"`
	Required    bool     `yaml:"required,omitempty" json:"required,omitempty"`
	Min         *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max         *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	Enum        []string `yaml:"enum,omitempty" json:"enum,omitempty"`
	// Pattern is a Go regexp the whole value must match (it is anchored
	// at both ends whether or not it says ^…$).
	Pattern string `yaml:"pattern,omitempty" json:"pattern,omitempty"`
	// Format says in words what Pattern allows ("1 to 40 lowercase
	// letters, digits or dashes"). People read it in listings and errors;
	// nobody should have to read a regexp in chat. Required with Pattern.
	Format string `yaml:"format,omitempty" json:"format,omitempty"`
}

// Type is the kind of value a Param accepts.
type Type string

const (
	TypeString   Type = "string"
	TypeInt      Type = "int"
	TypeBool     Type = "bool"
	TypeDuration Type = "duration" // Go duration syntax: 30m, 2h; also 7d
	TypeEnum     Type = "enum"
)

// Types lists every parameter type, for messages that say what is allowed.
var Types = []Type{TypeString, TypeInt, TypeBool, TypeDuration, TypeEnum}

// maxValueLen caps any typed value: parameters are names, labels and ARNs,
// never documents, and a cap keeps pattern matching and logs cheap.
const maxValueLen = 2048

// ParamOp is the Op of the errs.Invalid error a parameter value is
// refused with ("parse parameter batch"); name "" is the set of parameters
// as a whole (an unknown key). The error's message names the parameter and
// says what is allowed, e.g. "desired must be between 1 and 8, got 12".
func ParamOp(name string) string {
	if name == "" {
		return "parse parameters"
	}
	return "parse parameter " + name
}

func paramErr(name, format string, args ...any) error {
	return errs.E(ParamOp(name), errs.Invalid, format, args...)
}

// maxQuoted is how much of a user's input any reply or log line quotes: enough
// to recognise a typo, never enough to turn the bot into an echo service.
const maxQuoted = 100

// QuoteInput quotes user input for a message, cut to maxQuoted runes with the
// original length said, so a 100k-character word never comes back whole.
func QuoteInput(s string) string {
	r := []rune(s)
	if len(r) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(string(r[:maxQuoted])) + fmt.Sprintf("… (%d characters)", len(r))
}

// Parse converts raw user text into the parameter's Go value and checks the
// bounds: int → int64, bool → bool, duration → time.Duration, string and
// enum → string (enum values in their declared spelling).
func (p Param) Parse(raw string) (any, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > maxValueLen {
		return nil, paramErr(p.Name, "%s is too long (%d characters, at most %d)", p.Name, len(raw), maxValueLen)
	}
	switch p.Type {
	case TypeInt:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, paramErr(p.Name, "%s must be a whole number%s, got %s", p.Name, p.rangeText(), QuoteInput(raw))
		}
		if !p.inRange(float64(n)) {
			return nil, paramErr(p.Name, "%s must be %s, got %d", p.Name, p.boundsText(), n)
		}
		return n, nil
	case TypeBool:
		switch strings.ToLower(raw) {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0":
			return false, nil
		}
		return nil, paramErr(p.Name, "%s must be true or false, got %s", p.Name, QuoteInput(raw))
	case TypeDuration:
		d, err := ParseDuration(raw)
		if err != nil {
			return nil, paramErr(p.Name, "%s must be a duration like 30m, 2h or 7d%s, got %s", p.Name, p.rangeText(), QuoteInput(raw))
		}
		if d < 0 {
			return nil, paramErr(p.Name, "%s must not be negative, got %s", p.Name, raw)
		}
		if !p.inRange(d.Seconds()) {
			return nil, paramErr(p.Name, "%s must be %s, got %s", p.Name, p.boundsText(), FormatDuration(d))
		}
		return d, nil
	case TypeEnum:
		return p.parseEnum(raw)
	case TypeString:
		if len(p.Enum) > 0 {
			return p.parseEnum(raw)
		}
		if raw == "" {
			return nil, paramErr(p.Name, "%s must not be empty", p.Name)
		}
		if p.Pattern != "" {
			// The whole value must match: an unanchored "research-[a-z]+"
			// would otherwise accept "prod-logs,research-x".
			re, err := regexp.Compile(`^(?:` + p.Pattern + `)$`)
			if err != nil {
				// Validate rejects such schemas; refuse rather than accept
				// anything if one slips through.
				return nil, fmt.Errorf("compile pattern of %s: %w", p.Name, err)
			}
			if !re.MatchString(raw) {
				return nil, paramErr(p.Name, "%s must be %s, got %s", p.Name, p.Format, QuoteInput(raw))
			}
		}
		return raw, nil
	}
	return nil, fmt.Errorf("parse %s: unknown parameter type %q", p.Name, p.Type)
}

func (p Param) parseEnum(raw string) (any, error) {
	for _, e := range p.Enum {
		if strings.EqualFold(e, raw) {
			return e, nil
		}
	}
	return nil, paramErr(p.Name, "%s must be one of %s, got %s%s",
		p.Name, strings.Join(p.Enum, ", "), QuoteInput(raw), suggest.DidYouMean(raw, p.Enum))
}

func (p Param) inRange(v float64) bool {
	return (p.Min == nil || v >= *p.Min) && (p.Max == nil || v <= *p.Max)
}

// boundsText says the allowed range as a sentence fragment: "between 1 and
// 8", "at least 1", "at most 24h".
func (p Param) boundsText() string {
	switch {
	case p.Min != nil && p.Max != nil:
		return "between " + p.bound(*p.Min) + " and " + p.bound(*p.Max)
	case p.Min != nil:
		return "at least " + p.bound(*p.Min)
	case p.Max != nil:
		return "at most " + p.bound(*p.Max)
	}
	return "valid"
}

// Allowed says in words what values p takes, for listings and forms:
// "one of ALARM, OK, any", "a whole number between 1 and 4", "a duration
// between 5m and 24h", or the human format of a pattern.
func (p Param) Allowed() string {
	switch {
	case len(p.Enum) > 0:
		return "one of " + strings.Join(p.Enum, ", ")
	case p.Format != "":
		return p.Format
	}
	kind := map[Type]string{TypeInt: "a whole number", TypeDuration: "a duration such as 30m or 2h",
		TypeBool: "true or false", TypeString: "text"}[p.Type]
	if kind == "" {
		kind = string(p.Type)
	}
	if p.Min != nil || p.Max != nil {
		if p.Type == TypeDuration {
			kind = "a duration"
		}
		return kind + " " + p.boundsText()
	}
	return kind
}

func (p Param) rangeText() string {
	if p.Min == nil && p.Max == nil {
		return ""
	}
	return " " + p.boundsText()
}

// bound renders one bound in the parameter's own unit.
func (p Param) bound(v float64) string {
	if p.Type == TypeDuration {
		return FormatDuration(time.Duration(v * float64(time.Second)))
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// paramKeys are the YAML keys of a Param, for rejecting typos.
var paramKeys = []string{"name", "type", "description", "default", "required", "min", "max", "enum", "pattern", "format"}

// UnmarshalYAML lets duration parameters write their bounds as durations
// ("max: 24h"; stored in seconds) and rejects unknown keys, because decoding
// through a custom unmarshaler does not inherit the decoder's KnownFields.
func (p *Param) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a parameter must be a mapping with %s", n.Line, strings.Join(paramKeys, ", "))
	}
	typ := ""
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "type" {
			typ = n.Content[i+1].Value
		}
	}
	c := *n
	c.Content = slices.Clone(n.Content)
	for i := 0; i+1 < len(c.Content); i += 2 {
		k, v := c.Content[i], c.Content[i+1]
		if !slices.Contains(paramKeys, k.Value) {
			return fmt.Errorf("line %d: unknown parameter field %q; allowed: %s%s",
				k.Line, k.Value, strings.Join(paramKeys, ", "), suggest.DidYouMean(k.Value, paramKeys))
		}
		if Type(typ) == TypeDuration && (k.Value == "min" || k.Value == "max") &&
			v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
			d, err := ParseDuration(v.Value)
			if err != nil {
				return fmt.Errorf("line %d: %s %q is not a duration like 30m, 2h or 7d", v.Line, k.Value, v.Value)
			}
			c.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(d.Seconds(), 'f', -1, 64), Line: v.Line, Column: v.Column}
		}
	}
	type plain Param // without methods, so Decode does not recurse
	if err := c.Decode((*plain)(p)); err != nil {
		return fmt.Errorf("decode parameter: %w", err)
	}
	return nil
}

// Validate checks the schema itself (not a value): a known type, bounds only
// where they mean something and in order, a compilable pattern, a non-empty
// enum, and a default that satisfies all of it.
func (p Param) Validate() error {
	if !paramName.MatchString(p.Name) {
		return fmt.Errorf("parameter name %q must be lowercase letters, digits and _ (starting with a letter)", p.Name)
	}
	if !slices.Contains(Types, p.Type) {
		return fmt.Errorf("%s: type %q is not one of %s", p.Name, p.Type, joinTypes())
	}
	if p.Min != nil || p.Max != nil {
		if p.Type != TypeInt && p.Type != TypeDuration {
			return fmt.Errorf("%s: min/max apply only to int and duration parameters, not %s", p.Name, p.Type)
		}
		for _, b := range []*float64{p.Min, p.Max} {
			if b != nil && (math.IsNaN(*b) || math.IsInf(*b, 0)) {
				return fmt.Errorf("%s: bounds must be finite numbers", p.Name)
			}
		}
		if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
			return fmt.Errorf("%s: min %s is greater than max %s", p.Name, p.bound(*p.Min), p.bound(*p.Max))
		}
	}
	if p.Type == TypeEnum && len(p.Enum) == 0 {
		return fmt.Errorf("%s: enum parameter needs a non-empty enum list", p.Name)
	}
	if len(p.Enum) > 0 {
		if p.Type != TypeEnum && p.Type != TypeString {
			return fmt.Errorf("%s: enum applies only to enum and string parameters, not %s", p.Name, p.Type)
		}
		seen := map[string]bool{}
		for _, e := range p.Enum {
			k := strings.ToLower(e)
			if e == "" || seen[k] {
				return fmt.Errorf("%s: enum values must be non-empty and distinct, got %q", p.Name, e)
			}
			seen[k] = true
		}
	}
	if p.Pattern != "" {
		if p.Type != TypeString {
			return fmt.Errorf("%s: pattern applies only to string parameters, not %s", p.Name, p.Type)
		}
		if _, err := regexp.Compile(p.Pattern); err != nil {
			return fmt.Errorf("%s: pattern %q does not compile: %w", p.Name, p.Pattern, err)
		}
		if strings.TrimSpace(p.Format) == "" {
			return fmt.Errorf("%s: a pattern needs a format: what it allows, in words (e.g. \"1 to 40 lowercase letters, digits or dashes\")", p.Name)
		}
	}
	if p.Format != "" && p.Pattern == "" {
		return fmt.Errorf("%s: format describes a pattern; set pattern too or remove format", p.Name)
	}
	if p.Default != "" {
		if p.Required {
			return fmt.Errorf("%s: a required parameter cannot have a default", p.Name)
		}
		if _, err := p.Parse(p.Default); err != nil {
			return fmt.Errorf("%s: default %q is invalid: %w", p.Name, p.Default, err)
		}
	}
	return nil
}

var paramName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

func joinTypes() string {
	s := make([]string, len(Types))
	for i, t := range Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// String is the one-line help text: "desired: int 1..8 (default 2)".
func (p Param) String() string {
	var b strings.Builder
	b.WriteString(p.Name)
	b.WriteString(": ")
	b.WriteString(string(p.Type))
	switch {
	case len(p.Enum) > 0:
		b.WriteString(" " + strings.Join(p.Enum, "|"))
	case p.Min != nil || p.Max != nil:
		b.WriteString(" ")
		if p.Min != nil {
			b.WriteString(p.bound(*p.Min))
		}
		b.WriteString("..")
		if p.Max != nil {
			b.WriteString(p.bound(*p.Max))
		}
	case p.Format != "":
		b.WriteString(", " + p.Format)
	}
	switch {
	case p.Required:
		b.WriteString(" (required)")
	case p.Default != "":
		b.WriteString(" (default " + p.Default + ")")
	}
	return b.String()
}

// ParseValues validates what the user typed against params: unknown keys are
// rejected with a suggestion, required ones enforced, defaults applied.
// Parameters without a default that the user left out are absent from the
// result. The first error in a stable order is returned (unknown keys in
// name order, then params in declared order) so the same input always gets
// the same answer.
func ParseValues(params []Param, raw map[string]string) (Values, error) {
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.Name
	}
	var unknown []string
	for k := range raw {
		if !slices.Contains(names, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		k := unknown[0]
		if len(params) == 0 {
			return nil, paramErr("", "unknown parameter %s: this task takes no parameters", QuoteInput(k))
		}
		return nil, paramErr("", "unknown parameter %s; allowed: %s%s", QuoteInput(k), strings.Join(names, ", "), suggest.DidYouMean(k, names))
	}
	vals := make(Values, len(params))
	for _, p := range params {
		s, ok := raw[p.Name]
		if !ok {
			if p.Required {
				return nil, paramErr(p.Name, "%s is required (%s)", p.Name, p)
			}
			if p.Default == "" {
				continue
			}
			s = p.Default
		}
		v, err := p.Parse(s)
		if err != nil {
			return nil, err
		}
		vals[p.Name] = v
	}
	return vals, nil
}

// ParseDuration accepts Go duration syntax plus a leading whole number of
// days, since operators think in days for access grants: "7d", "1d12h",
// "90m".
func ParseDuration(s string) (time.Duration, error) {
	days := time.Duration(0)
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("parse duration %q: bad day count", s)
		}
		if n > 366*100 {
			return 0, fmt.Errorf("parse duration %q: too many days", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("parse duration: %w", err)
	}
	if days > 0 && d < 0 {
		return 0, fmt.Errorf("parse duration %q: mixed signs", s)
	}
	return days + d, nil
}

// FormatDuration renders d compactly for people: "7d", "24h", "1h30m",
// "45s". Sub-second remainders are shown with Go's own formatting.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d%time.Second != 0 {
		return d.String()
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	// Two or more whole days print as days; otherwise hours read better
	// ("24h", "36h" rather than "1d", "1d12h").
	if d%(24*time.Hour) == 0 && d >= 48*time.Hour {
		fmt.Fprintf(&b, "%dd", d/(24*time.Hour))
		return b.String()
	}
	for _, u := range []struct {
		unit time.Duration
		sym  string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.sym)
			d -= n * u.unit
		}
	}
	return b.String()
}
