package policies

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Constraint is a compiled parameter constraint. A request satisfies it only
// if the parameter is present and its value fits; see the package comment for
// the syntax.
type Constraint struct {
	src  string
	kind constraintKind
	op   string  // numeric comparison: "<", "<=", ">", ">=", "=", "!="
	a, b float64 // operands; b only for between
	set  []string
	glob glob
}

type constraintKind uint8

const (
	constraintCompare constraintKind = iota + 1
	constraintBetween
	constraintOneOf
	constraintGlob
)

// numericOps is ordered longest first so "<=" wins over "<".
var numericOps = [...]string{"<=", ">=", "!=", "==", "<", ">", "="}

// ParseConstraint parses a constraint such as "<= 8", "between 1 10",
// "one of [a, b]" or "research-{user}-*".
func ParseConstraint(s string) (Constraint, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return Constraint{}, fmt.Errorf("empty constraint")
	}
	c := Constraint{src: t}
	for _, op := range numericOps {
		if rest, ok := strings.CutPrefix(t, op); ok {
			n, err := parseNumber(rest)
			if err != nil {
				return Constraint{}, fmt.Errorf("%q: %w", t, err)
			}
			if op == "==" {
				op = "="
			}
			c.kind, c.op, c.a = constraintCompare, op, n
			return c, nil
		}
	}
	if rest, ok := cutWord(t, "between"); ok {
		f := strings.Fields(rest)
		if len(f) == 3 && strings.EqualFold(f[1], "and") {
			f = []string{f[0], f[2]}
		}
		if len(f) != 2 {
			return Constraint{}, fmt.Errorf("%q: want \"between LOW HIGH\"", t)
		}
		lo, err := parseNumber(f[0])
		if err != nil {
			return Constraint{}, fmt.Errorf("%q: %w", t, err)
		}
		hi, err := parseNumber(f[1])
		if err != nil {
			return Constraint{}, fmt.Errorf("%q: %w", t, err)
		}
		if lo > hi {
			return Constraint{}, fmt.Errorf("%q: low bound %v is above high bound %v", t, lo, hi)
		}
		c.kind, c.a, c.b = constraintBetween, lo, hi
		return c, nil
	}
	if rest, ok := cutWord(t, "one"); ok {
		if rest, ok = cutWord(rest, "of"); !ok {
			return Constraint{}, fmt.Errorf("%q: want \"one of [a, b]\"", t)
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, "[") || !strings.HasSuffix(rest, "]") {
			return Constraint{}, fmt.Errorf("%q: list must be in brackets: one of [a, b]", t)
		}
		for item := range strings.SplitSeq(rest[1:len(rest)-1], ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				return Constraint{}, fmt.Errorf("%q: empty item in list", t)
			}
			c.set = append(c.set, item)
		}
		c.kind = constraintOneOf
		return c, nil
	}
	g, err := parseGlob(t, true)
	if err != nil {
		return Constraint{}, err
	}
	c.kind, c.glob = constraintGlob, g
	return c, nil
}

// cutWord removes a leading keyword followed by a space (case-insensitive).
func cutWord(s, word string) (string, bool) {
	if len(s) <= len(word) || !strings.EqualFold(s[:len(word)], word) || (s[len(word)] != ' ' && s[len(word)] != '\t') {
		return s, false
	}
	return s[len(word)+1:], true
}

func parseNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return n, nil
}

// Match reports whether value satisfies the constraint; handle is the
// caller's handle for {user} (empty: a pattern using {user} fails).
func (c *Constraint) Match(value, handle string) bool {
	switch c.kind {
	case constraintCompare, constraintBetween:
		n, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return false // "Inf >= 1" must not pass a lower bound
		}
		if c.kind == constraintBetween {
			return n >= c.a && n <= c.b
		}
		switch c.op {
		case "<":
			return n < c.a
		case "<=":
			return n <= c.a
		case ">":
			return n > c.a
		case ">=":
			return n >= c.a
		case "=":
			return n == c.a
		case "!=":
			return n != c.a
		}
	case constraintOneOf:
		for _, s := range c.set {
			if s == value {
				return true
			}
		}
	case constraintGlob:
		return c.glob.match(value, handle)
	}
	return false
}

// UsesHandle reports whether the constraint needs the caller's handle.
func (c *Constraint) UsesHandle() bool { return c.kind == constraintGlob && c.glob.hasUser }

// String returns the constraint as written (trimmed).
func (c Constraint) String() string { return c.src }

// describe renders the constraint for explanations, with {user} expanded.
func (c *Constraint) describe(handle string) string {
	if c.UsesHandle() && handle != "" {
		return strings.ReplaceAll(c.src, "{user}", handle)
	}
	return c.src
}
