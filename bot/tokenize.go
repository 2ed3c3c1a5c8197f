package bot

import "strings"

// token is one word of a command. Quotes group words and are removed:
// reason="deploy gone wrong" is one token whose text is
// `reason=deploy gone wrong`.
type token struct {
	text string
	// quoted reports whether any part of the token was quoted, so a quoted
	// "--dry-run" or "/day2" is a value, not a flag or prefix.
	quoted bool
	// eq is the byte index of the first unquoted '=' in text, or -1: only
	// that '=' separates a key from its value.
	eq int
}

// Chat clients turn straight quotes into typographic ones; accept both.
var closingQuote = map[rune]rune{'"': '"', '\'': '\'', '“': '”', '”': '”', '‘': '’', '’': '’', '„': '“'}

// tokenize splits text on white space, honouring quotes. Inside quotes a
// backslash escapes the closing quote or another backslash.
// Quotes inside a word are kept as they are.
func tokenize(text string) ([]token, error) {
	var (
		toks []token
		cur  strings.Builder
		in   bool // inside a token
		t    = token{eq: -1}
	)
	flush := func() {
		if in {
			t.text = cur.String()
			toks = append(toks, t)
		}
		cur.Reset()
		in, t = false, token{eq: -1}
	}
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		// A quote opens only at the start of a word or right after its
		// '=', so apostrophes in free text ("don't") stay apostrophes.
		close, ok := closingQuote[r]
		if ok && (!in || (t.eq >= 0 && t.eq == cur.Len()-1 && !t.quoted)) {
			in, t.quoted = true, true
			j := i + 1
			closed := false
			for ; j < len(rs); j++ {
				c := rs[j]
				if c == '\\' && j+1 < len(rs) && (rs[j+1] == close || rs[j+1] == '\\' || rs[j+1] == r) {
					cur.WriteRune(rs[j+1])
					j++
					continue
				}
				if c == close || (c == r && r != close) {
					closed = true
					break
				}
				cur.WriteRune(c)
			}
			if !closed {
				return nil, usagef("unterminated quote %c; close it or remove it", r)
			}
			i = j
			continue
		}
		if isSpace(r) {
			flush()
			continue
		}
		in = true
		if r == '=' && t.eq < 0 {
			t.eq = cur.Len()
		}
		cur.WriteRune(r)
	}
	flush()
	return toks, nil
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x85, 0xA0, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
		0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return false
}
