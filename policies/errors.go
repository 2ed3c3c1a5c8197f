package policies

import (
	"fmt"
	"strings"

	"github.com/day2bot/day2bot/internal/errs"
)

// Problem is one thing wrong with a policy: which rule, which field, why.
// Rule is empty for problems outside rules (users, groups).
type Problem struct {
	Rule   string
	Field  string
	Reason string
}

func (p Problem) String() string {
	if p.Rule == "" {
		return fmt.Sprintf("%s: %s", p.Field, p.Reason)
	}
	return fmt.Sprintf("rule %q field %s: %s", p.Rule, p.Field, p.Reason)
}

// ValidationError lists every problem found in a set of rules or a policy
// file. It is the detail of an errs.Invalid error, whose message is the
// problem list; callers that want the Problems find it with errors.As.
type ValidationError struct {
	Problems []Problem
}

// maxShownProblems keeps the message readable when a whole file is wrong.
const maxShownProblems = 20

func (e *ValidationError) Error() string { return "invalid policy: " + e.list() }

// list is the problems, one per line: the message the person sees.
func (e *ValidationError) list() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i == maxShownProblems {
			fmt.Fprintf(&b, "\n… and %d more", len(e.Problems)-i)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// problems collects Problems while validating.
type problems struct{ list []Problem }

func (ps *problems) add(rule, field, format string, args ...any) {
	ps.list = append(ps.list, Problem{Rule: rule, Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	verr := &ValidationError{Problems: ps.list}
	return errs.Wrap("validate policy", errs.Invalid, verr, "%s", verr.list())
}
