package tasks

// Selection rules, shared by every action and by the digests and alerts
// (one code path, so a task and a digest never disagree about what an app
// owns). A resource is selected when it matches every part of the
// selector that is set:
//
//   - IDs: the resource's id or ARN equals one of them (exact; no globs).
//   - Names: the resource's name matches one of them as a glob. The name is
//     what the service calls a name: a bucket's, alarm's or DB instance's
//     identifier, a target group's or service's name, an EC2 instance's
//     Name tag. An ECS service is also named "CLUSTER/NAME", as id or
//     name, since its name is unique only within its cluster.
//   - Tags: the resource carries every key, and each value matches as a
//     glob ("*" alone: any value, the key must be present).
//
// A glob is literal text where * matches any run of characters (slashes
// included: alarm names may contain them) and ? exactly one; nothing else
// is special ([ is literal). This is also what EC2's filters do with * and
// ?, so what AWS filtered and what the check below keeps agree.
//
// An empty selector selects nothing: an app with no binding must never
// mean "every resource in the account".

// Candidate is what selection reads of one AWS resource.
type Candidate struct {
	ID   string
	ARN  string
	Name string // "" means the name is the id
	Tags map[string]string
}

// Empty reports whether the selector sets nothing to select by.
func (s Selector) Empty() bool {
	return len(s.IDs) == 0 && len(s.Names) == 0 && len(s.Tags) == 0
}

// Matches reports whether c is selected, by the rules above.
func (s Selector) Matches(c Candidate) bool {
	if s.Empty() {
		return false
	}
	if len(s.IDs) > 0 && !containsExact(s.IDs, c.ID) && (c.ARN == "" || !containsExact(s.IDs, c.ARN)) {
		return false
	}
	name := c.Name
	if name == "" {
		name = c.ID
	}
	if len(s.Names) > 0 && !MatchesAnyGlob(s.Names, name) {
		return false
	}
	for k, v := range s.Tags {
		if got, ok := c.Tags[k]; !ok || !Glob(v, got) {
			return false
		}
	}
	return true
}

func containsExact(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MatchesAnyGlob reports whether name matches one of the globs.
func MatchesAnyGlob(patterns []string, name string) bool {
	for _, p := range patterns {
		if Glob(p, name) {
			return true
		}
	}
	return false
}

// Glob matches name against pattern: * is any run of characters, ? is one
// byte, anything else is literal.
func Glob(pattern, name string) bool {
	// Greedy with backtracking to the last star: linear for typical
	// patterns, never exponential.
	p, n, star, mark := 0, 0, -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case star >= 0:
			p, mark = star+1, mark+1
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// HasGlob reports whether pattern has a wildcard, i.e. names more than
// itself.
func HasGlob(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '*' || pattern[i] == '?' {
			return true
		}
	}
	return false
}
