package tasks

import "testing"

func TestSelectorMatches(t *testing.T) {
	web := map[string]string{"app": "shop", "tier": "web", "Name": "web-1"}
	for _, tc := range []struct {
		name string
		sel  Selector
		c    Candidate
		want bool
	}{
		{"empty selects nothing", Selector{}, Candidate{ID: "i-1", Tags: web}, false},
		{"tags all present", Selector{Tags: map[string]string{"app": "shop", "tier": "web"}}, Candidate{ID: "i-1", Tags: web}, true},
		{"one tag differs", Selector{Tags: map[string]string{"app": "shop", "tier": "db"}}, Candidate{ID: "i-1", Tags: web}, false},
		{"tag missing", Selector{Tags: map[string]string{"env": "*"}}, Candidate{ID: "i-1", Tags: web}, false},
		{"tag star is any value", Selector{Tags: map[string]string{"tier": "*"}}, Candidate{ID: "i-1", Tags: web}, true},
		{"tag value glob", Selector{Tags: map[string]string{"app": "sh*"}}, Candidate{ID: "i-1", Tags: web}, true},
		{"name glob", Selector{Names: []string{"research-*"}}, Candidate{ID: "research-lab1"}, true},
		{"name glob other", Selector{Names: []string{"research-*"}}, Candidate{ID: "finance-lab"}, false},
		{"literal star bucket is not one name", Selector{Names: []string{"research-*"}}, Candidate{ID: "research-"}, true},
		{"name from Name", Selector{Names: []string{"web-?"}}, Candidate{ID: "i-1", Name: "web-1"}, true},
		{"id exact", Selector{IDs: []string{"i-1"}}, Candidate{ID: "i-1"}, true},
		{"id is not a glob", Selector{IDs: []string{"i-*"}}, Candidate{ID: "i-1"}, false},
		{"id by ARN", Selector{IDs: []string{"arn:aws:s3:::b"}}, Candidate{ID: "b", ARN: "arn:aws:s3:::b"}, true},
		{"ids and tags both", Selector{IDs: []string{"i-1"}, Tags: map[string]string{"tier": "db"}}, Candidate{ID: "i-1", Tags: web}, false},
	} {
		if got := tc.sel.Matches(tc.c); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}
}
