package digest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// TestFleetResources: Auto Scaling groups count in-service vs desired and
// target groups healthy vs registered, selected by tag, and their metrics
// are read with the dimension values CloudWatch uses.
func TestFleetResources(t *testing.T) {
	ctx := context.Background()
	name := uniq("fl")
	if err := emu.SeedGroup(ctx, emulator.Group{Name: name + "-asg", Min: 1, Max: 6, Desired: 3, Tags: map[string]string{"app": name}}); err != nil {
		t.Fatal(err)
	}
	ids, err := emu.SeedInstances(ctx, 3, emulator.InstanceSpec{Tags: map[string]string{"app": name, "tier": "web"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emu.SeedTargetGroup(ctx, emulator.TargetGroup{Name: name + "-tg", Tags: map[string]string{"app": name}, Targets: ids}); err != nil {
		t.Fatal(err)
	}
	// Another app's group must not be counted.
	if _, err := emu.SeedTargetGroup(ctx, emulator.TargetGroup{Name: name + "-other", Tags: map[string]string{"app": name + "x"}, Targets: ids[:1]}); err != nil {
		t.Fatal(err)
	}
	emu.SetInstanceState(ids[2], "stopped") // its target goes unused/unhealthy

	asg := tasks.Selector{Type: "autoscaling:group", Tags: map[string]string{"app": name}}
	tg := tasks.Selector{Type: "elbv2:target-group", Tags: map[string]string{"app": name}}
	app := &blueprints.ResolvedApp{Name: name, Region: "us-east-1", Resources: map[string]blueprints.ResolvedResource{
		"group": {Name: "group", Select: asg}, "target-groups": {Name: "target-groups", Select: tg},
	}, Metrics: []blueprints.ResolvedMetric{
		{Metric: blueprints.Metric{Name: "in-service", Namespace: "AWS/AutoScaling", Metric: "GroupInServiceInstances", Resource: "group", Stat: "Minimum", Period: 5 * time.Minute}, Select: asg},
		{Metric: blueprints.Metric{Name: "unhealthy-hosts", Namespace: "AWS/ApplicationELB", Metric: "UnHealthyHostCount", Resource: "target-groups", Stat: "Maximum", Period: time.Minute}, Select: tg},
	}}
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	before := emu.Count("monitoring:GetMetricData")
	r, err := newBuilder(t, openStore(t, func() time.Time { return now }), func() time.Time { return now }, nil).Build(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %v", r.Problems)
	}
	got := map[string]ResourceCount{}
	for _, rc := range r.Resources {
		got[rc.Name] = rc
	}
	if g := got["group"]; g.Expected != 3 || g.Up != 3 {
		t.Errorf("group = %+v, want 3/3", g)
	}
	if g := got["target-groups"]; g.Expected != 3 || g.Up != 2 || len(g.Down) != 1 || !strings.Contains(g.Down[0], "2 of 3 healthy") {
		t.Errorf("target groups = %+v, want 2/3 with one down line", g)
	}
	for _, m := range r.Metrics {
		if m.Resources != 1 || m.Level == "" {
			t.Errorf("metric %s: %d resources, level %q, note %q", m.Name, m.Resources, m.Level, m.Note)
		}
	}
	if n := emu.Count("monitoring:GetMetricData") - before; n != 1 {
		t.Errorf("GetMetricData calls = %d, want 1", n)
	}
	body := string(emu.Requests("monitoring:GetMetricData")[before].Body)
	if !strings.Contains(body, "targetgroup/"+name+"-tg/") || !strings.Contains(body, name+"-asg") {
		t.Errorf("queries lack the CloudWatch dimension values")
	}
}
