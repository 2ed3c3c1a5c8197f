package aws

import (
	"regexp"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
)

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"research-*", "research-lab1", true},
		{"research-*", "research-", true},
		{"research-*", "finance-lab", false},
		{"shop-*", "shop-cpu/high", true},
		{"*-s3-public*", "lake-s3-public-read", true},
		{"db-?", "db-1", true},
		{"db-?", "db-12", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"", "", true},
		{"", "x", false},
		{"*", "", true},
		{"[abc]", "[abc]", true}, // brackets are literal
	} {
		if got := globMatch(tc.pattern, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.name, got)
		}
	}
}

// FuzzGlobMatch compares with the equivalent regular expression.
func FuzzGlobMatch(f *testing.F) {
	f.Add("research-*", "research-lab")
	f.Add("a*b?c*", "aXXbYcZ")
	f.Add("**?", "")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		var re strings.Builder
		re.WriteString(`^`)
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(`(?s:.*)`)
			case '?':
				re.WriteString(`(?s:.)`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`$`)
		// globMatch works on bytes: compare on ASCII input only.
		for i := 0; i < len(pattern); i++ {
			if pattern[i] >= 0x80 {
				return
			}
		}
		for i := 0; i < len(name); i++ {
			if name[i] >= 0x80 {
				return
			}
		}
		if want := regexp.MustCompile(re.String()).MatchString(name); globMatch(pattern, name) != want {
			t.Fatalf("globMatch(%q, %q) = %v, regexp says %v", pattern, name, !want, want)
		}
	})
}

func TestSelects(t *testing.T) {
	sel := tasks.Selector{Names: []string{"shop-*"}, Tags: map[string]string{"app": "shop", "env": "*"}}
	if !selects(sel, "shop-db", "", map[string]string{"app": "shop", "env": "prod"}) {
		t.Fatal("should match")
	}
	if selects(sel, "shop-db", "", map[string]string{"app": "shop"}) || selects(sel, "other", "", map[string]string{"app": "shop", "env": "x"}) {
		t.Fatal("should not match")
	}
	if !selects(tasks.Selector{IDs: []string{"arn:x"}}, "name", "arn:x", nil) {
		t.Fatal("ids match ARNs")
	}
}
