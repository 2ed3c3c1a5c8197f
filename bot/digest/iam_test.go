package digest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// iamFor maps a recorded call (signing name:operation) to its IAM action
// where the two differ.
var iamFor = map[string]string{
	"monitoring:GetMetricData":  "cloudwatch:GetMetricData",
	"monitoring:DescribeAlarms": "cloudwatch:DescribeAlarms",
	"s3:ListBuckets":            "s3:ListAllMyBuckets",
}

// TestIAMActionsCoverEveryCall builds a digest touching every resource
// kind and checks each call the emulator saw is in IAMActions.
func TestIAMActionsCoverEveryCall(t *testing.T) {
	if !slices.IsSorted(IAMActions()) {
		t.Errorf("IAMActions not sorted: %v", IAMActions())
	}
	ctx := context.Background()
	name := uniq("iam")
	if _, err := emu.SeedInstances(ctx, 1, emulator.InstanceSpec{Tags: map[string]string{"app": name}}); err != nil {
		t.Fatal(err)
	}
	// An ECS service and a load balancer, so their listing and tag calls
	// are made too.
	if err := emu.SeedECSService(ctx, emulator.ECSService{Cluster: name, Name: "web", Desired: 1, Tags: map[string]string{"app": name}}); err != nil {
		t.Fatal(err)
	}
	if _, err := emu.SeedLoadBalancer(ctx, emulator.LoadBalancer{Name: name + "-lb", Tags: map[string]string{"app": name}}); err != nil {
		t.Fatal(err)
	}
	sel := func(typ string) tasks.Selector {
		return tasks.Selector{Type: typ, Tags: map[string]string{"app": name}}
	}
	app := &blueprints.ResolvedApp{Name: name, AlarmPrefixes: []string{name + "-"}, Resources: map[string]blueprints.ResolvedResource{}}
	for _, typ := range []string{"ec2:instance", "rds:db-instance", "autoscaling:group", "elbv2:target-group", "elbv2:load-balancer", "ecs:service", "s3:bucket"} {
		app.Resources[typ] = blueprints.ResolvedResource{Name: typ, Select: sel(typ)}
	}
	app.Metrics = []blueprints.ResolvedMetric{{Select: sel("ec2:instance"), Metric: blueprints.Metric{Name: "cpu", Namespace: "AWS/EC2",
		Metric: "CPUUtilization", Resource: "ec2:instance", Stat: "Average", Period: 5 * time.Minute}}}
	emu.ResetRequests()
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	if _, err := newBuilder(t, openStore(t, func() time.Time { return now }), func() time.Time { return now }, nil).Build(ctx, app); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range emu.Requests("") {
		op := r.Service + ":" + r.Operation
		if a, ok := iamFor[op]; ok {
			op = a
		}
		seen[op] = true
		if !slices.Contains(IAMActions(), op) {
			t.Errorf("call %s is not covered by IAMActions", op)
		}
	}
	for _, op := range []string{"ecs:ListServices", "ecs:DescribeServices", "elasticloadbalancing:DescribeLoadBalancers"} {
		if !seen[op] {
			t.Errorf("the digest did not call %s; the test no longer covers it", op)
		}
	}
	if len(seen) < 8 {
		t.Errorf("only %d kinds of call seen: %v", len(seen), seen)
	}
}
