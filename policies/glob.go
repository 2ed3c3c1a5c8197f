package policies

import (
	"fmt"
	"strings"
)

// A glob is a compiled pattern for app names, task names, channels and
// string parameters. The syntax is deliberately tiny: '*' matches any run of
// characters (including none), '?' matches one byte (names and most values
// are ASCII), '\' escapes the next character, and "{user}" (parameter
// constraints only) stands for the caller's handle. Matching never
// allocates: the placeholder is resolved while walking the pattern instead
// of building the expanded string.
type glob struct {
	src     string
	segs    []globSeg
	literal bool // no wildcards and no placeholder: plain string equality
	hasUser bool
}

type segKind uint8

const (
	segLit  segKind = iota // text
	segUser                // the caller's handle
	segStar                // any run of characters
	segOne                 // exactly one character
)

type globSeg struct {
	kind segKind
	text string
}

// parseGlob compiles a pattern. allowUser permits the {user} placeholder.
func parseGlob(s string, allowUser bool) (glob, error) {
	if s == "" {
		return glob{}, fmt.Errorf("empty pattern")
	}
	g := glob{src: s, literal: true}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			g.segs = append(g.segs, globSeg{kind: segLit, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 == len(s) {
				return glob{}, fmt.Errorf("%q: trailing backslash", s)
			}
			i++
			lit.WriteByte(s[i])
		case '*':
			flush()
			g.literal = false
			// Collapse "**" so matching stays linear-ish.
			if n := len(g.segs); n == 0 || g.segs[n-1].kind != segStar {
				g.segs = append(g.segs, globSeg{kind: segStar})
			}
		case '?':
			flush()
			g.literal = false
			g.segs = append(g.segs, globSeg{kind: segOne})
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return glob{}, fmt.Errorf("%q: unclosed {", s)
			}
			name := s[i+1 : i+end]
			if name != "user" {
				return glob{}, fmt.Errorf("%q: unknown placeholder {%s}, only {user} is supported", s, name)
			}
			if !allowUser {
				return glob{}, fmt.Errorf("%q: {user} is only allowed in parameter constraints", s)
			}
			flush()
			g.literal = false
			g.hasUser = true
			g.segs = append(g.segs, globSeg{kind: segUser})
			i += end
		case '}':
			return glob{}, fmt.Errorf("%q: unmatched }", s)
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return g, nil
}

// match reports whether v matches. handle substitutes {user}; an empty
// handle never matches a pattern that needs it.
func (g *glob) match(v, handle string) bool {
	if g.literal {
		return len(g.segs) == 1 && g.segs[0].text == v
	}
	if g.hasUser && handle == "" {
		return false
	}
	// Classic wildcard matching with a single backtrack point (the last
	// star), done over (segment, offset) cursors so {user} is never
	// materialised.
	var p, star cursor
	s, starS := 0, -1
	for s < len(v) {
		k, c := g.at(p, handle)
		switch {
		case k == segOne || ((k == segLit || k == segUser) && c == v[s]):
			p = g.next(p, handle)
			s++
		case k == segStar:
			star = p
			starS = s
			p = g.next(p, handle)
		case starS >= 0:
			p = g.next(star, handle)
			starS++
			s = starS
		default:
			return false
		}
	}
	for {
		k, _ := g.at(p, handle)
		if k != segStar {
			return p.seg == len(g.segs)
		}
		p = g.next(p, handle)
	}
}

type cursor struct{ seg, off int }

// endKind marks the end of the pattern in at.
const endKind segKind = 255

func (g *glob) at(p cursor, handle string) (segKind, byte) {
	if p.seg >= len(g.segs) {
		return endKind, 0
	}
	sg := &g.segs[p.seg]
	switch sg.kind {
	case segLit:
		return segLit, sg.text[p.off]
	case segUser:
		return segUser, handle[p.off]
	}
	return sg.kind, 0
}

func (g *glob) next(p cursor, handle string) cursor {
	sg := &g.segs[p.seg]
	n := 1
	switch sg.kind {
	case segLit:
		n = len(sg.text)
	case segUser:
		n = len(handle)
	}
	if p.off+1 < n {
		return cursor{p.seg, p.off + 1}
	}
	return cursor{p.seg + 1, 0}
}

// literalPrefix is the text every match starts with.
func (g *glob) literalPrefix() string {
	if len(g.segs) > 0 && g.segs[0].kind == segLit {
		return g.segs[0].text
	}
	return ""
}

func (g glob) String() string { return g.src }
