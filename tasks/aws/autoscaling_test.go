package aws

import (
	"context"
	"slices"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
	"github.com/day2bot/day2bot/tasks/emulator"
)

// seedGroups creates groups tagged app=<unique> and returns the tag value
// and the group names in name order.
func seedGroups(t *testing.T, groups ...emulator.Group) (string, []string) {
	t.Helper()
	app := uniq(t, "asg")
	var names []string
	for i, g := range groups {
		g.Name = app + "-" + string(rune('a'+i))
		g.Tags = map[string]string{"app": app}
		if err := emu.SeedGroup(context.Background(), g); err != nil {
			t.Fatal(err)
		}
		names = append(names, g.Name)
	}
	return app, names
}

func asgInv(t *testing.T, app string, vals tasks.Values) tasks.Invocation {
	return tasks.Invocation{AWS: testConfig(t), Target: tasks.Selector{Type: "autoscaling:group", Tags: map[string]string{"app": app}}, Values: vals}
}

func asgAction(t *testing.T, name string) tasks.Action {
	t.Helper()
	return findAction(t, AutoScalingActions(SDKAutoScaling), name)
}

func TestAutoScalingDescribe(t *testing.T) {
	app, names := seedGroups(t, emulator.Group{Min: 1, Max: 4, Desired: 2}, emulator.Group{Min: 0, Max: 2, Desired: 0})
	before := emu.Count("autoscaling:DescribeAutoScalingGroups")
	res, err := asgAction(t, "autoscaling.describe").Run(context.Background(), asgInv(t, app, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary != "2 Auto Scaling groups" || res.Resources[0].Resource != names[0] || res.Resources[0].Detail != "desired 2 (min 1, max 4), 2 in service" {
		t.Fatalf("result %+v", res)
	}
	reqs := emu.Requests("autoscaling:DescribeAutoScalingGroups")[before:]
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), "Filters.member.1.Name=tag%3Aapp") || !strings.Contains(string(reqs[0].Body), "MaxRecords=100") {
		t.Fatalf("requests %d: %s", len(reqs), reqs[0].Body)
	}
}

func TestAutoScalingSetDesiredPlanThenRun(t *testing.T) {
	app, names := seedGroups(t, emulator.Group{Min: 1, Max: 6, Desired: 2}, emulator.Group{Min: 1, Max: 6, Desired: 4}, emulator.Group{Min: 0, Max: 8, Desired: 1})
	act := asgAction(t, "autoscaling.set-desired")
	inv := asgInv(t, app, tasks.Values{"desired": int64(4)})
	ctx := context.Background()
	before := emu.Count("autoscaling:SetDesiredCapacity")

	plan, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	want := []tasks.Change{
		{Resource: names[0], Action: "set desired 2 -> 4", Detail: "min 1, max 6, 2 in service"},
		{Resource: names[2], Action: "set desired 1 -> 4", Detail: "min 0, max 8, 1 in service"},
	}
	if !slices.Equal(plan.Changes, want) || plan.Summary != "set desired capacity to 4 on 2 groups; 1 already at 4" {
		t.Fatalf("plan %+v", plan)
	}
	if emu.Count("autoscaling:SetDesiredCapacity") != before {
		t.Fatal("Plan wrote")
	}
	var progress []tasks.Progress
	res, err := act.Run(ctx, inv, func(p tasks.Progress) { progress = append(progress, p) })
	if err != nil {
		t.Fatal(err)
	}
	var changed []string
	for _, c := range plan.Changes {
		changed = append(changed, c.Resource)
	}
	if got := resourcesWith(res.Resources, tasks.StatusOK); !slices.Equal(got, changed) {
		t.Fatalf("run changed %v, plan said %v", got, changed)
	}
	for _, n := range names {
		if d, live := emu.GroupDesired(n); d != 4 || live != 4 {
			t.Fatalf("%s desired %d live %d", n, d, live)
		}
	}
	reqs := emu.Requests("autoscaling:SetDesiredCapacity")[before:]
	if len(reqs) != 2 || !strings.Contains(string(reqs[0].Body), "AutoScalingGroupName="+names[0]) || !strings.Contains(string(reqs[0].Body), "DesiredCapacity=4") {
		t.Fatalf("requests %d", len(reqs))
	}
	if len(progress) != 2 || res.Summary != "set desired capacity to 4 on 2 of 3 groups, 1 skipped" {
		t.Fatalf("progress %v summary %q", progress, res.Summary)
	}
}

func TestAutoScalingSetDesiredOutsideGroupBounds(t *testing.T) {
	app, names := seedGroups(t, emulator.Group{Min: 1, Max: 8, Desired: 2}, emulator.Group{Min: 1, Max: 3, Desired: 2})
	before := emu.Count("autoscaling:SetDesiredCapacity")
	_, err := asgAction(t, "autoscaling.set-desired").Run(context.Background(), asgInv(t, app, tasks.Values{"desired": int64(5)}), nil)
	wantErr(t, err, errs.Invalid, "desired 5 is outside group "+names[1]+"'s own bounds: min 1, max 3")
	if emu.Count("autoscaling:SetDesiredCapacity") != before {
		t.Fatal("a group was changed although one is out of bounds")
	}
}

// faultFor injects an AWS fault just before the call for one group, so
// faults land on a chosen group however the action orders its calls.
type faultFor struct {
	AutoScalingAPI
	group string
	fault emulator.Fault
}

func (f faultFor) SetDesiredCapacity(ctx context.Context, in *autoscaling.SetDesiredCapacityInput, o ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error) {
	if awssdk.ToString(in.AutoScalingGroupName) == f.group {
		emu.InjectFault("autoscaling:SetDesiredCapacity", f.fault)
	}
	return f.AutoScalingAPI.SetDesiredCapacity(ctx, in, o...)
}

func TestAutoScalingSetDesiredPartialFailureAndThrottling(t *testing.T) {
	app, names := seedGroups(t, emulator.Group{Min: 0, Max: 5, Desired: 1}, emulator.Group{Min: 0, Max: 5, Desired: 1})
	before := emu.Count("autoscaling:SetDesiredCapacity")
	// First group: throttled once, then the shared retryer retries it.
	emu.InjectFault("autoscaling:SetDesiredCapacity", emulator.Fault{Status: 400, Code: "Throttling", Message: "Rate exceeded"})
	// Second group: AWS refuses with a non-retryable error.
	fault := emulator.Fault{Status: 400, Code: "ScalingActivityInProgress", Message: "Scaling activity in progress"}
	act := &asgSetDesired{func(cfg awssdk.Config) AutoScalingAPI { return faultFor{SDKAutoScaling(cfg), names[1], fault} }}
	res, err := act.Run(context.Background(), asgInv(t, app, tasks.Values{"desired": int64(3)}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := emu.Count("autoscaling:SetDesiredCapacity") - before; n != 3 {
		t.Fatalf("SetDesiredCapacity calls = %d, want 3 (throttled + retry, refused)", n)
	}
	if res.Failed() != 1 || res.Summary != "set desired capacity to 3 on 1 of 2 groups, 1 failed" {
		t.Fatalf("result %+v", res)
	}
	if res.Resources[1].Resource != names[1] || res.Resources[1].Detail != "SetDesiredCapacity on "+names[1]+": ScalingActivityInProgress: Scaling activity in progress (HTTP 400 Bad Request)" {
		t.Fatalf("failure %+v", res.Resources[1])
	}
	if d, _ := emu.GroupDesired(names[0]); d != 3 {
		t.Fatalf("first group desired %d", d)
	}
	if d, _ := emu.GroupDesired(names[1]); d != 1 {
		t.Fatalf("refused group changed to %d", d)
	}
}

func TestAutoScalingInstanceRefresh(t *testing.T) {
	app, names := seedGroups(t, emulator.Group{Min: 1, Max: 4, Desired: 3})
	act := asgAction(t, "autoscaling.instance-refresh")
	ctx := context.Background()
	inv := asgInv(t, app, tasks.Values{"min_healthy": int64(75)})
	plan, err := act.Plan(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 1 || plan.Changes[0] != (tasks.Change{Resource: names[0], Action: "instance refresh", Detail: "replaces 3 instances, min healthy 75%"}) {
		t.Fatalf("plan %+v", plan)
	}
	before := emu.Count("autoscaling:StartInstanceRefresh")
	res, err := act.Run(ctx, inv, nil)
	if err != nil || res.Failed() != 0 || !strings.HasPrefix(res.Resources[0].Detail, "refresh ") {
		t.Fatalf("run %v %+v", err, res)
	}
	reqs := emu.Requests("autoscaling:StartInstanceRefresh")[before:]
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), "Preferences.MinHealthyPercentage=75") {
		t.Fatalf("requests %d", len(reqs))
	}
	// A second refresh while the first runs is skipped, not sent.
	res, err = act.Run(ctx, inv, nil)
	if err != nil || len(resourcesWith(res.Resources, tasks.StatusSkipped)) != 1 || !strings.Contains(res.Resources[0].Detail, "already InProgress") {
		t.Fatalf("second run %v %+v", err, res)
	}
	if emu.Count("autoscaling:StartInstanceRefresh")-before != 1 {
		t.Fatal("second refresh was sent")
	}
}

func TestAutoScalingAccessDenied(t *testing.T) {
	app, _ := seedGroups(t, emulator.Group{Min: 1, Max: 4, Desired: 1})
	emu.InjectFault("autoscaling:StartInstanceRefresh", emulator.Fault{Status: 403, Code: "AccessDenied", Message: "User is not authorized to perform: autoscaling:StartInstanceRefresh"})
	_, err := asgAction(t, "autoscaling.instance-refresh").Run(context.Background(), asgInv(t, app, nil), nil)
	wantErr(t, err, errs.Permission, `AWS denied StartInstanceRefresh: the app's IAM role needs permission "autoscaling:StartInstanceRefresh"`)
	if a := errs.IAMActionOf(err); a != "autoscaling:StartInstanceRefresh" {
		t.Fatalf("IAM action %q", a)
	}
}

// Suspending names the process and what it stops; the run suspends it
// where it runs, skips the group where it is already suspended, and
// resuming undoes it.
func TestAutoScalingSuspendAndResumeProcesses(t *testing.T) {
	ctx := context.Background()
	app, names := seedGroups(t, emulator.Group{Min: 1, Max: 4, Desired: 2}, emulator.Group{Min: 1, Max: 4, Desired: 1})
	suspend := asgAction(t, "autoscaling.suspend-processes")
	only := func(name, process string) tasks.Invocation {
		return tasks.Invocation{AWS: testConfig(t), Target: tasks.Selector{Type: "autoscaling:group", Names: []string{name}, Tags: map[string]string{"app": app}},
			Values: tasks.Values{"process": process}}
	}
	planAndRun(ctx, t, suspend, only(names[0], "AZRebalance"))
	planAndRun(ctx, t, suspend, only(names[1], "ReplaceUnhealthy"))
	p, r := planAndRun(ctx, t, suspend, asgInv(t, app, tasks.Values{"process": "ReplaceUnhealthy"}))
	if p.Changes[0].Action != "suspend ReplaceUnhealthy" || !strings.HasSuffix(p.Changes[0].Detail, "; while suspended, instances marked unhealthy are not replaced") ||
		p.Changes[1].Action != "skip" || p.Changes[1].Detail != "ReplaceUnhealthy already suspended" {
		t.Fatalf("plan %+v", p.Changes)
	}
	if r.Resources[0].Detail != "suspended now: AZRebalance, ReplaceUnhealthy" || !slices.Equal(emu.GroupSuspended(names[0]), []string{"AZRebalance", "ReplaceUnhealthy"}) {
		t.Fatalf("run %+v, emulator %v", r.Resources, emu.GroupSuspended(names[0]))
	}
	d, err := asgAction(t, "autoscaling.describe").Run(ctx, asgInv(t, app, nil), nil)
	if err != nil || !strings.HasSuffix(d.Resources[1].Detail, "suspended: ReplaceUnhealthy") {
		t.Fatalf("describe %v %+v", err, d.Resources)
	}
	_, r = planAndRun(ctx, t, asgAction(t, "autoscaling.resume-processes"), asgInv(t, app, tasks.Values{"process": "all"}))
	if r.Summary != "resumed processes of 2 of 2 groups" || r.Resources[1].Detail != "every process runs" || len(emu.GroupSuspended(names[0])) != 0 {
		t.Fatalf("resume %+v", r)
	}
}

// min, max and desired are checked against each other before AWS is
// asked; a refused update fails its group only.
func TestAutoScalingSetCapacityBoundsAndPartialFailure(t *testing.T) {
	ctx := context.Background()
	app, names := seedGroups(t, emulator.Group{Min: 1, Max: 4, Desired: 2}, emulator.Group{Min: 1, Max: 4, Desired: 2}, emulator.Group{Min: 2, Max: 6, Desired: 3})
	act := asgAction(t, "autoscaling.set-capacity")
	for _, c := range []struct {
		min, max, desired int64
		want              string
	}{{3, 2, 2, "min 3 is greater than max 2"}, {1, 4, 5, "desired 5 must be between min 1 and max 4"}} {
		_, err := act.Plan(ctx, asgInv(t, app, tasks.Values{"min": c.min, "max": c.max, "desired": c.desired}))
		wantErr(t, err, errs.Invalid, c.want)
	}
	inv := asgInv(t, app, tasks.Values{"min": int64(2), "max": int64(6), "desired": int64(3)})
	p, err := act.Plan(ctx, inv)
	if err != nil || p.Changes[0].Action != "set min/max/desired 1/4/2 -> 2/6/3" || p.Changes[2].Detail != "already min/max/desired 2/6/3" || emu.Count("autoscaling:UpdateAutoScalingGroup") != 0 {
		t.Fatalf("plan %v %+v", err, p.Changes)
	}
	emu.InjectFault("autoscaling:UpdateAutoScalingGroup", emulator.Fault{Status: 400, Code: "ScalingActivityInProgress", Message: "Scaling activity is in progress"})
	r, err := act.Run(ctx, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertPlanMatchesRun(t, p, r)
	if r.Failed() != 1 || !strings.Contains(r.Resources[0].Detail, "ScalingActivityInProgress") || r.Resources[1].Detail != "min/max/desired 1/4/2 -> 2/6/3" {
		t.Fatalf("run %+v", r.Resources)
	}
	if lo, hi, d := emu.GroupSize(names[1]); lo != 2 || hi != 6 || d != 3 {
		t.Fatalf("group %d/%d/%d", lo, hi, d)
	}
	if lo, hi, d := emu.GroupSize(names[0]); lo != 1 || hi != 4 || d != 2 {
		t.Fatalf("refused group changed: %d/%d/%d", lo, hi, d)
	}
}

// A server that ignores the group filters lists every group; only those
// carrying the app's tag are planned.
func TestAutoScalingCapacityTrustsBindingNotServerFilter(t *testing.T) {
	ctx := context.Background()
	app, names := seedGroups(t, emulator.Group{Min: 1, Max: 4, Desired: 2})
	_, foreign := seedGroups(t, emulator.Group{Min: 1, Max: 4, Desired: 2})
	emu.IgnoreGroupFilters(true)
	t.Cleanup(func() { emu.IgnoreGroupFilters(false) })
	sel := tasks.Selector{Type: "autoscaling:group", Names: []string{foreign[0], names[0]}, Tags: map[string]string{"app": app}}
	p, _ := planAndRun(ctx, t, asgAction(t, "autoscaling.set-capacity"), tasks.Invocation{AWS: testConfig(t), Target: sel,
		Values: tasks.Values{"min": int64(0), "max": int64(2), "desired": int64(0)}})
	if len(p.Changes) != 1 || p.Changes[0].Resource != names[0] {
		t.Fatalf("plan %+v", p.Changes)
	}
	if lo, hi, d := emu.GroupSize(foreign[0]); lo != 1 || hi != 4 || d != 2 {
		t.Fatalf("foreign group changed: %d/%d/%d", lo, hi, d)
	}
}
