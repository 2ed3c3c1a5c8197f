// Package suggest finds the closest known word to a mistyped one, so that
// user errors can say "did you mean `restart-web`?" instead of just "unknown".
package suggest

import "strings"

// Closest returns the candidate nearest to word by edit distance, or "" when
// none is close enough to be a plausible typo. Comparison ignores case.
// Ties resolve to the candidate listed first, so callers that pass sorted
// candidates get deterministic answers.
func Closest(word string, candidates []string) string {
	w := strings.ToLower(word)
	best, bestDist := "", -1
	for _, c := range candidates {
		d := Distance(w, strings.ToLower(c))
		if d > threshold(w, c) {
			continue
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// DidYouMean returns ` (did you mean "x"?)`-style text ready to append to an
// error message, or "" when there is no close candidate.
func DidYouMean(word string, candidates []string) string {
	if c := Closest(word, candidates); c != "" {
		return "; did you mean \"" + c + "\"?"
	}
	return ""
}

// threshold is the largest distance still treated as a typo: about a third
// of the longer word, at least 1 and at most 3. A prefix of a candidate
// ("restart" for "restart-web") is also accepted, since users often stop
// typing early.
func threshold(word, candidate string) int {
	n := max(len([]rune(word)), len([]rune(candidate)))
	t := min(max(n/3, 1), 3)
	if len(word) >= 3 && strings.HasPrefix(strings.ToLower(candidate), word) {
		return n
	}
	return t
}

// Distance is the edit distance between a and b in runes, counting an
// insertion, deletion, substitution or swap of two adjacent runes as one
// edit (optimal string alignment): swapped letters are the most common
// typo, and plain Levenshtein would count them twice.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows: two back for transpositions, one back, current.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
