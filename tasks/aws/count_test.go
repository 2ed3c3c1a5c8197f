package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// Count selects load balancers and target groups by the selection rules:
// a glob name and a "*" tag value (the key present, any value), which
// ELBv2 itself matches only literally.
func TestCountLoadBalancersAndTargetGroupsByGlob(t *testing.T) {
	ctx := context.Background()
	p := fmt.Sprintf("cg%d", uniqSeq.Add(1))
	tags := func(team string) map[string]string {
		if team == "" {
			return map[string]string{"app": p}
		}
		return map[string]string{"app": p, "team": team}
	}
	// The first two are selected: the third's name does not match, the
	// fourth lacks the tag.
	seeds := []struct{ name, team string }{{p + "-web1", "lab"}, {p + "-web2", "ops"}, {p + "-db", "lab"}, {p + "-web3", ""}}
	for _, s := range seeds {
		if _, err := emu.SeedTargetGroup(ctx, emulator.TargetGroup{Name: s.name, Tags: tags(s.team)}); err != nil {
			t.Fatal(err)
		}
		if _, err := emu.SeedLoadBalancer(ctx, emulator.LoadBalancer{Name: s.name, Tags: tags(s.team)}); err != nil {
			t.Fatal(err)
		}
	}
	for typ, prefix := range map[string]string{tgType: "targetgroup/", lbType: "app/"} {
		sel := tasks.Selector{Type: typ, Names: []string{p + "-web*"}, Tags: map[string]string{"team": "*"}}
		ms, known, err := Count(ctx, testConfig(t), sel)
		if err != nil || !known {
			t.Fatalf("%s: known %v, %v", typ, known, err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.ID)
		}
		slices.Sort(got)
		if len(got) != 2 || !strings.HasPrefix(got[0], prefix+p+"-web1/") || !strings.HasPrefix(got[1], prefix+p+"-web2/") {
			t.Errorf("%s: counted %v, want %s-web1 and -web2", typ, got, p)
		}
	}
	// An empty binding counts nothing, rather than the account.
	if ms, known, err := Count(ctx, testConfig(t), tasks.Selector{Type: lbType}); err != nil || !known || len(ms) != 0 {
		t.Errorf("empty selector: %v %v %v", ms, known, err)
	}
}

func TestARNSuffix(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef":       "targetgroup/web/0123456789abcdef",
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188": "app/shop/50dc6c495c0c9188",
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/nlb/50dc6c495c0c9188":  "net/nlb/50dc6c495c0c9188",
		"plain": "plain",
	} {
		if got := arnSuffix(arn, "targetgroup/", "app/", "net/"); got != want {
			t.Errorf("arnSuffix(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestServiceARNParts(t *testing.T) {
	for _, tc := range []struct{ arn, cluster, name string }{
		{"arn:aws:ecs:eu-west-1:123456789012:service/prod/web", "prod", "web"},
		{"arn:aws:ecs:eu-west-1:123456789012:service/web", "", ""}, // old format: no cluster
		{"web", "", ""},
		{"arn:aws:ecs:eu-west-1:123456789012:service//web", "", ""},
	} {
		c, n, ok := serviceARNParts(tc.arn)
		if ok != (tc.cluster != "") || c != tc.cluster && ok || n != tc.name && ok {
			t.Errorf("serviceARNParts(%q) = %q %q %v, want %q %q", tc.arn, c, n, ok, tc.cluster, tc.name)
		}
	}
}
